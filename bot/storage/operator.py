"""``python app.py db upgrade`` and ``db current``: the schema, by hand, for operators.

The app upgrades the schema itself at start; an operator who prefers to do it before a
deployment (or to see where a file stands) uses these. Each prints one line; a problem
is one line on stderr and exit status 2, like a start-up that can't go ahead.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys

from sqlalchemy.exc import DBAPIError

from bot.storage import schema
from bot.storage.db import describe_write_error, open_db
from bot.storage.engine import DatabaseUnavailable, check, create_engine_for, hide_password, reason


def main(command: str, path: str, url: str | None = None) -> int:
    """``command`` is ``upgrade`` or ``current``; ``path`` is SECBOT_DB's value, used
    unless ``url`` (SECBOT_DATABASE_URL, PostgreSQL) is given."""
    if url:
        return asyncio.run(_on_postgres(command, url))
    try:
        db = open_db(path)
    except (sqlite3.Error, OSError) as e:
        return _fail(f"SECBOT_DB {path!r} can't be opened as a database: {e}")
    try:
        if command == "upgrade":
            _say_upgraded(schema.upgrade(db))
        else:
            _say_current(schema.status(db))
    except schema.SchemaTooNew as e:
        return _fail(f"SECBOT_DB {path!r} can't be used: {e}")
    except sqlite3.Error as e:
        return _fail(f"SECBOT_DB {path!r} can't be upgraded ({describe_write_error(e)})")
    finally:
        db.conn.close()
    return 0


async def _on_postgres(command: str, url: str) -> int:
    shown = f"SECBOT_DATABASE_URL {hide_password(url)!r}"
    db = create_engine_for(url)
    try:
        await check(db)
        if command == "upgrade":
            _say_upgraded(await schema.upgrade_engine(db))
        else:
            _say_current(await schema.status_engine(db))
    except DatabaseUnavailable as e:
        return _fail(f"{shown} can't be used: {e}")
    except schema.SchemaTooNew as e:
        return _fail(f"{shown} can't be used: {e}")
    except DBAPIError as e:
        return _fail(f"{shown} can't be upgraded ({reason(e)})")
    finally:
        await db.dispose()
    return 0


def _say_upgraded(before: schema.Status) -> None:
    if before.up_to_date:
        print(f"The schema is up to date (revision {before.head}).")
    else:
        was = before.current or "none: a new database"
        print(f"Upgraded the schema to revision {before.head} (it was {was}).")


def _say_current(now: schema.Status) -> None:
    state = "up to date" if now.up_to_date else f"the code's is {now.head}"
    print(f"Schema revision {now.current or 'none (a new database)'}: {state}.")


def _fail(line: str) -> int:
    print(f"secbot: {line}", file=sys.stderr)
    return 2
