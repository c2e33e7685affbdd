"""Alembic's environment: migrations run on the connection ``bot.storage.schema`` hands it.

secbot applies its schema itself (at start, or ``python app.py db upgrade``), inside its
own transaction on one of the engine's connections, so there is no URL here: use those,
not the ``alembic`` command.
"""

from __future__ import annotations

from alembic import context

from bot.storage.sql import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit(
        "secbot's migrations run through secbot: python app.py db upgrade (or db current)"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
