"""SQLAlchemy's aiosqlite adapter with one trip to SQLite's thread per statement.

aiosqlite runs each connection on a thread of its own, and every call on it is a round
trip: the caller puts the call on the thread's queue, the thread wakes, runs it and hands
the result back through the event loop's self-pipe. SQLAlchemy's adapted cursor makes
four such trips for a statement with rows back (open a cursor, execute, fetch, close;
three without rows), the pool's reset of a returned connection a fifth (``ROLLBACK``),
and a lone statement's ``commit`` a sixth, though in the driver's autocommit
(``bot.storage.db``) there is nothing to commit or roll back. Measured at concurrency 1 under
the bench's Slack load, a delivery made about 20 trips, and each cost the event loop
tens of microseconds and a wake-up of another thread on a 2-core machine: most of why a
delivery handled alone cost several times its share of a burst.

Here a statement is one trip: the thread opens a cursor, executes, fetches every row
and closes it, and returns the rows with the description, row count and last row id.
``commit`` and ``rollback`` go to the thread only when SQLite says a transaction is open
(``in_transaction``, read from the connection as aiosqlite does): otherwise pysqlite
would do nothing there anyway. The rest is SQLAlchemy's adapter unchanged (the
server-side cursor, errors, closing); :func:`module` is passed to the engine as its DBAPI
module (``bot.storage.engine``).
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

_Done = tuple[Any, list[Any], int, int | None]


def _run(connection: aiosqlite.Connection, sql: str, params: Any, many: bool) -> _Done:
    """On the connection's thread: the whole statement, its cursor closed again."""
    cursor = connection._conn.cursor()  # noqa: SLF001 - aiosqlite's own calls use it so
    try:
        if many:
            cursor.executemany(sql, params)
        elif params is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, params)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor that opens nothing on the thread until it executes, then gets everything
    in that one trip (the rows are read before execute returns, as SQLAlchemy's adapter
    does for every statement that is not server-side)."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection):
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        return None  # nothing is open on the thread

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None  # pysqlite ignores them too

    def nextset(self) -> None:
        return None  # SQLite has one result set per statement

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._trip(operation, parameters, False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._trip(operation, seq_of_parameters, True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            conn = self._connection
            done = await conn._execute(_run, conn, operation, parameters, many)  # noqa: SLF001
        self._description, rows, self._rowcount, self._lastrowid = done
        self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # (a subclass of it)

    def _open(self) -> bool:
        """Whether a transaction is open (nothing to commit or roll back otherwise)."""
        connection = self._connection
        return bool(connection._connection) and connection.in_transaction  # noqa: SLF001

    def commit(self) -> None:
        if self._open():
            super().commit()

    def rollback(self) -> None:
        if self._open():
            super().rollback()


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def module() -> OneTripDbapi:
    """The DBAPI module for ``create_async_engine(..., module=module())`` on SQLite."""
    return OneTripDbapi(aiosqlite, sqlite3)
