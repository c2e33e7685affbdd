"""A hot statement that commits by itself: the rows of one, and a front door's write first.

Outside an ``atomic`` block a statement is a transaction of its own: on SQLite it runs in
the driver's autocommit (one statement, one commit), under the database's write lock, so
its rows come back committed. Opening a block for it would add ``BEGIN IMMEDIATE`` and
``COMMIT`` trips, and the tip fan-out's posts and the Slack door's acknowledgements wait
for them. That it is one trip to SQLite's thread, not four, is the driver's doing
(``bot/storage/sqlite_trips.py``), as it is for every statement; what this module adds is
which writer goes first. On PostgreSQL both are plain :func:`~bot.storage.sql.execute`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable

from bot.storage.sql import Db, execute


async def rows_in_one_trip(db: Db, statement: Executable, params: dict[str, Any]) -> list[Any]:
    """The rows of ``statement`` (a DML statement with RETURNING, or a SELECT) run with
    ``params``: inside the caller's ``atomic`` block, or else committed on its own."""
    return list((await execute(db, statement, params)).all())


async def write_first(db: Db, statement: Executable, params: dict[str, Any]) -> None:
    """Run one writing statement that commits by itself (SQLite makes one statement
    atomic), ahead of this process's other writers (``WriteLock.first``): no ``BEGIN``,
    no ``COMMIT``. For a front door keeping a delivery while its request waits. On
    PostgreSQL, plain :func:`~bot.storage.sql.execute` (its writers don't queue for the
    file)."""
    await execute(db, statement, params, first=True)
