"""``python app.py db upgrade`` and ``db current``: the schema, by hand, for operators.

The app upgrades the schema itself at start; an operator who prefers to do it before a
deployment (or to see where a database stands) uses these. Each prints one line; a
problem is one line on stderr and exit status 2, like a start-up that can't go ahead.
"""

from __future__ import annotations

import asyncio
import sys

from bot.storage import schema
from bot.storage.db import describe_write_error, open_db
from bot.storage.engine import DatabaseUnavailable, check
from bot.storage.sql import DB_ERRORS


def main(command: str, target: str, shown: str) -> int:
    """``command`` is ``upgrade`` or ``current``; ``target`` the database (a SQLite path
    or a URL), ``shown`` how messages name it (the variable, never a password)."""
    return asyncio.run(_main(command, target, shown))


async def _main(command: str, target: str, shown: str) -> int:
    try:
        db = open_db(target)
    except (OSError, ValueError) as e:
        return _fail(f"{shown} can't be opened as a database: {e}")
    try:
        await check(db.engine)
        if command == "upgrade":
            before = await schema.upgrade(db)
            if before.up_to_date:
                print(f"The schema is up to date (revision {before.head}).")
            else:
                was = before.current or "none: a new database"
                print(f"Upgraded the schema to revision {before.head} (it was {was}).")
        else:
            now = await schema.status(db)
            state = "up to date" if now.up_to_date else f"the code's is {now.head}"
            print(f"Schema revision {now.current or 'none (a new database)'}: {state}.")
    except DatabaseUnavailable as e:
        return _fail(f"{shown} can't be used: {e}")
    except schema.SchemaTooNew as e:
        return _fail(f"{shown} can't be used: {e}")
    except DB_ERRORS as e:
        return _fail(f"{shown} can't be upgraded ({describe_write_error(e)})")
    finally:
        await db.close()
    return 0


def _fail(line: str) -> int:
    print(f"secbot: {line}", file=sys.stderr)
    return 2
