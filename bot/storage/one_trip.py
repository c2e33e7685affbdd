"""A statement's rows in one trip to SQLite's thread, for the few statements a hot loop runs.

aiosqlite runs SQLite in a thread of its own and every call on it is a round trip: the
caller's coroutine waits for the thread, then for a turn of the event loop. Through
SQLAlchemy's adapted cursor a statement with rows back takes four (open a cursor,
execute, fetch, close); while a tip fan-out keeps fifty posts on the wire each of those
turns is a long one, and the ledger's group commit (``bot/storage/batched.py``) is what
every post waits for. :func:`rows_in_one_trip` compiles the Core statement as SQLAlchemy
would (the same SQL, the same bound values through the same type processors) and hands
it to aiosqlite's ``execute_fetchall``: one trip. On PostgreSQL (asyncpg has no thread)
it is plain :func:`~bot.storage.sql.execute`.

Outside an ``atomic`` block the statement is a transaction of its own: on SQLite it runs in
the driver's autocommit (one statement, one commit, as :func:`~bot.storage.sql.execute`
runs a lone statement), under the database's write lock, so the rows come back committed
in that one trip. Opening a block for it would add three more (``BEGIN IMMEDIATE``,
``COMMIT``, the pool's reset of the connection), and the tip fan-out's posts wait for them.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Executable
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import Compiled

from bot.storage.sql import Db, bound_connection, execute


@lru_cache(maxsize=256)
def _compiled(statement: Executable, dialect: Dialect) -> Compiled:
    # Statements given here are built once (module level or cached), so compile once too
    # (room for the front door's INSERT of each size up to 128 rows, and the rest).
    return statement.compile(dialect=dialect)  # type: ignore[attr-defined]


async def rows_in_one_trip(db: Db, statement: Executable, params: dict[str, Any]) -> list[Any]:
    """The rows of ``statement`` (a DML statement with RETURNING, or a SELECT) run with
    ``params``: inside the caller's ``atomic`` block, or else committed on its own."""
    if db.dialect != "sqlite":
        return list((await execute(db, statement, params)).all())
    joined = bound_connection(db)
    if joined is not None:
        return await _one_trip(joined, statement, params)
    assert db.writes is not None  # SQLite: the app's one writer at a time
    async with db.writes, db.engine.connect() as conn:
        # No transaction is begun on ``conn``: the statement commits by itself.
        return await _one_trip(conn, statement, params)


async def write_first(db: Db, statement: Executable, params: dict[str, Any]) -> None:
    """Run one writing statement that commits by itself (SQLite makes one statement
    atomic), ahead of this process's other writers (``WriteLock.first``) and, on SQLite,
    in one trip: no ``BEGIN``, no ``COMMIT``, no cursor to open and close. For a front
    door keeping a delivery while its request waits. On PostgreSQL, plain
    :func:`~bot.storage.sql.execute` (its writers don't queue for the file)."""
    if db.dialect != "sqlite":
        await execute(db, statement, params)
        return
    assert db.writes is not None
    async with db.writes.first(), db.engine.connect() as conn:
        await _one_trip(conn, statement, params)


async def _one_trip(conn: AsyncConnection, statement: Executable, params: dict[str, Any]) -> list:
    state = _compiled(statement, conn.dialect).construct_expanded_state(params)  # type: ignore[attr-defined]
    processors = state.processors
    values = tuple(
        processors[name](state.parameters[name]) if name in processors else state.parameters[name]
        for name in state.positiontup
    )
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None, "a connection in use is open"
    try:
        return list(await driver.execute_fetchall(state.statement, values))
    except sqlite3.Error as e:  # as SQLAlchemy would raise it: callers catch DB_ERRORS
        raise DBAPIError.instance(state.statement, values, e, sqlite3.Error) from e
