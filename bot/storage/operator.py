"""``python app.py db upgrade`` and ``db current``: the schema, by hand, for operators.

The app upgrades the schema itself at start; an operator who prefers to do it before a
deployment (or to see where a file stands) uses these. Each prints one line; a problem
is one line on stderr and exit status 2, like a start-up that can't go ahead.
"""

from __future__ import annotations

import sqlite3
import sys

from bot.storage import schema
from bot.storage.db import describe_write_error, open_db


def main(command: str, path: str) -> int:
    """``command`` is ``upgrade`` or ``current``; ``path`` is SECBOT_DB's value."""
    try:
        db = open_db(path)
    except (sqlite3.Error, OSError) as e:
        return _fail(f"SECBOT_DB {path!r} can't be opened as a database: {e}")
    try:
        if command == "upgrade":
            before = schema.upgrade(db)
            if before.up_to_date:
                print(f"The schema is up to date (revision {before.head}).")
            else:
                was = before.current or "none: a new database"
                print(f"Upgraded the schema to revision {before.head} (it was {was}).")
        else:
            now = schema.status(db)
            state = "up to date" if now.up_to_date else f"the code's is {now.head}"
            print(f"Schema revision {now.current or 'none (a new database)'}: {state}.")
    except schema.SchemaTooNew as e:
        return _fail(f"SECBOT_DB {path!r} can't be used: {e}")
    except sqlite3.Error as e:
        return _fail(f"SECBOT_DB {path!r} can't be upgraded ({describe_write_error(e)})")
    finally:
        db.conn.close()
    return 0


def _fail(line: str) -> int:
    print(f"secbot: {line}", file=sys.stderr)
    return 2
