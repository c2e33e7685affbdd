"""The schema's history as Alembic revisions, shipped inside the package.

``versions/`` holds one revision per schema change; ``bot.storage.schema`` applies them
(at start, and for ``python app.py db upgrade``). Revision 0001 brings any file made
before Alembic up to the schema of the freeze (``legacy.py``).
"""
