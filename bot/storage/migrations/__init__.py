"""The schema's history as Alembic revisions, shipped inside the package.

``versions/`` holds one revision per schema change; ``bot.storage.schema`` applies them
(at start, and for ``python app.py db upgrade``). Revision 0001 brings any file made
before Alembic up to the schema of the freeze (``legacy.py``).
"""


class ForwardOnly(RuntimeError):
    """Raised by every revision's ``downgrade``: on purpose, not unfinished. Undoing a
    schema change would drop data people entered; a backup is the way back."""

    def __init__(self) -> None:
        super().__init__("secbot's schema only moves forward: restore a backup instead")
