"""SQLite storage: connection, forward-only migrations, and the core's own stores.

Each domain keeps its SQL in its own small store module and its schema in its own
migration list, so a PostgreSQL backend can replace a store without touching handlers.
"""
