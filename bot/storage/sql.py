"""Tables declared once, queries built with SQLAlchemy Core, run asynchronously.

Every store declares its tables on the one :data:`metadata` below and builds its
statements with Core (``select``, ``insert``, ``update``, ``delete``, :func:`upsert`),
never SQL strings. They run through :func:`execute` on the :class:`Db`'s asynchronous
engine (aiosqlite for the SQLite file, asyncpg for PostgreSQL), and ``async with
atomic(db):`` makes several commit together: the connection of the block is bound to
the task (a context variable), so every ``execute`` inside joins its transaction;
outside a block a statement runs on a short connection of its own and commits at once.

Errors are SQLAlchemy's driver-neutral ones (``DBAPIError`` and its ``IntegrityError``,
``OperationalError``...): catch :data:`DB_ERRORS`, never a driver's own class.

Time columns use :class:`UtcDateTime`: an aware datetime in, an aware UTC datetime out.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CursorResult,
    DateTime,
    Dialect,
    Executable,
    MetaData,
    Text,
    func,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.types import TypeDecorator, TypeEngine

# Names for the constraints and indexes a table declares without a name, so a later
# Alembic revision can refer to (drop, alter) them on every database alike. Indexes and
# constraints that exist on disk already keep the names they were created with: declare
# those with ``name=`` so the declaration matches the file.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """One type for every point in time: timezone-aware in, aware UTC out.

    On SQLite the value is ISO-8601 text in one fixed width,
    ``2026-03-30T08:30:00.000000+00:00`` (Python's ``isoformat`` of the UTC time, with
    microseconds always written). Today's files hold four spellings of a time: plain
    ``isoformat()`` (the core, web chat, Teams, incidents; it drops ``.000000`` on a
    whole second), this one (the quiz), and the same with ``Z`` for ``+00:00`` (tips
    and paging, two ways of writing it). All four read back here unchanged, and this one
    is the nearest to all of them: it is the quiz's text exactly, and the plain form's
    for every time that is not a whole second, so ``<`` and ``>`` on text go on meaning
    earlier and later for old rows and new (an old row at exactly the same instant may
    compare unequal: a domain whose queries need equality on old rows rewrites them in
    its own revision). On PostgreSQL the column is ``TIMESTAMP WITH TIME ZONE``.

    A naive datetime is refused: every clock in secbot is aware, and a naive one is a bug
    that would otherwise be stored as if it were UTC.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ValueError(f"a time column needs a timezone-aware datetime, not {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "postgresql":
            return value
        return utc_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:  # never written by secbot; read as the UTC it meant
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_text(value: datetime) -> str:
    """The text :class:`UtcDateTime` stores on SQLite for an aware ``value``."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class WriteLock:
    """This process's turn at SQLite's one write lock: an ``asyncio.Lock`` (first come,
    first served) with a second queue in front, :meth:`first`, for the few writes whose
    waiter is a request that is still open (a front door keeping a delivery before it
    acknowledges). Under a burst, dozens of handlers' transactions queue here; an
    acknowledgement that queued behind them all waited for every one, so it waits only
    for the transaction holding the lock now.

    Ahead, but not always: when both queues wait, they take turns, so a door kept busy
    by a burst can't starve the handling side (whose claims and writes are what turn
    acknowledged deliveries into handled ones). The lock passes straight to the next
    waiter on release, so a writer that arrives while others wait can't take it out of
    turn."""

    __slots__ = ("_held", "_first", "_rest", "_was_first")

    def __init__(self) -> None:
        self._held = False
        self._first: deque[asyncio.Future[None]] = deque()
        self._rest: deque[asyncio.Future[None]] = deque()
        self._was_first = False  # whether the holder now came from the front queue

    def locked(self) -> bool:
        return self._held

    async def acquire(self, *, first: bool = False) -> None:
        if not self._held:
            self._held = True
            self._was_first = first
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._first if first else self._rest
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed the lock as it was cancelled: pass it on
            elif waiter in queue:  # (a release may have dropped it already)
                queue.remove(waiter)
            raise

    def release(self) -> None:
        order = (self._rest, self._first) if self._was_first else (self._first, self._rest)
        for queue in order:
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    self._was_first = queue is self._first
                    waiter.set_result(None)  # still held: now by that waiter
                    return
        self._held = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    @asynccontextmanager
    async def first(self) -> AsyncIterator[None]:
        """``async with db.writes.first():`` the lock, ahead of every ordinary waiter."""
        await self.acquire(first=True)
        try:
            yield
        finally:
            self.release()


class Db:
    """The database: an asynchronous SQLAlchemy engine and its dialect's name.

    Made by :func:`bot.storage.db.open_db` (the SQLite file through aiosqlite, or
    PostgreSQL through asyncpg); statements run through :func:`execute` and
    :func:`atomic`, each on a pooled connection, so nothing waits on the event loop.
    """

    __slots__ = ("engine", "dialect", "writes", "__weakref__")

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self.dialect: str = engine.dialect.name
        # SQLite has one write lock per file, and a connection that finds it taken sleeps
        # in the busy handler (1, 2, 5, 10... ms) before trying again. Writers of this
        # process queue here instead, in order and without sleeping (a front door's keep
        # ahead of the rest: WriteLock.first); other processes still meet the busy
        # timeout. None on PostgreSQL, whose writers lock rows, not the file.
        self.writes: WriteLock | None = WriteLock() if self.dialect == "sqlite" else None

    async def close(self) -> None:
        """Close every pooled connection (the app's last step)."""
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Db({self.engine.url.render_as_string(hide_password=True)!r})"


# The connection of the ``atomic`` block the running task is in, with its Db: statements
# on that Db inside the block join its transaction. A task started inside a block would
# inherit it, which is one reason never to start one there.
_ATOMIC: ContextVar[tuple[Db, AsyncConnection] | None] = ContextVar("secbot_atomic", default=None)
# The execution option that marks an ``atomic`` block's connection: on SQLite its
# transaction begins with BEGIN IMMEDIATE (bot.storage.db), any other statement runs in
# the driver's autocommit.
ATOMIC = "secbot_atomic"

Result = CursorResult[*tuple[Any, ...]]  # rows of any width


def bound_connection(db: Db) -> AsyncConnection | None:
    """The connection of the ``atomic`` block on ``db`` the running task is in, if any."""
    bound = _ATOMIC.get()
    return bound[1] if bound is not None and bound[0] is db else None


async def execute(
    db: Db,
    statement: Executable,
    params: dict[str, Any] | list[dict[str, Any]] | None = None,
    *,
    first: bool = False,
) -> Result:
    """Run a Core statement: ``await execute(db, stmt)``; a list of ``params`` runs it once
    per dict (executemany).

    Inside ``async with atomic(db)`` it joins that transaction; outside, it runs on a
    short connection of its own and commits at once. The rows are read before it
    returns: use ``.all()``, ``.first()``, ``.scalar()``, ``.one_or_none()``,
    ``.rowcount`` or :func:`inserted_id`. ``first``: a write outside a block takes
    SQLite's write lock ahead of this process's other writers (``WriteLock.first``).
    """
    bound = _ATOMIC.get()
    if bound is not None and bound[0] is db:
        return await bound[1].execute(statement, params)
    if db.writes is not None and getattr(statement, "is_dml", False):
        async with db.writes.first() if first else db.writes:
            return await _run(db, statement, params)
    return await _run(db, statement, params)


async def _run(
    db: Db, statement: Executable, params: dict[str, Any] | list[dict[str, Any]] | None
) -> Result:
    async with db.engine.connect() as conn:
        result = await conn.execute(statement, params)
        await conn.commit()
        return result


@asynccontextmanager
async def atomic(db: Db) -> AsyncIterator[AsyncConnection]:
    """``async with atomic(db):`` makes the statements inside commit together or not at all.

    Wrap every store method that writes more than one statement, or reads and then
    writes (read-modify-write), in it. On SQLite it is ``BEGIN IMMEDIATE`` (the file's
    one write lock is taken at the start, so a read inside is never stale); on
    PostgreSQL a read that decides a write uses ``select(...).with_for_update()``
    (ignored on SQLite), or :func:`serialize` when there is no row to lock. An ``atomic``
    inside another joins the outer one. Never start a task or await the network inside:
    the lock is held until the block ends.
    """
    bound = _ATOMIC.get()
    if bound is not None and bound[0] is db:
        yield bound[1]
        return
    if db.writes is None:
        async with db.engine.connect() as conn, bind(db, conn):
            yield conn
        return
    async with db.writes, db.engine.connect() as conn, bind(db, conn):
        yield conn


@asynccontextmanager
async def bind(db: Db, conn: AsyncConnection) -> AsyncIterator[None]:
    """Begin an ``atomic`` transaction on ``conn`` (one the caller set up, e.g. with a
    PRAGMA of its own) and bind it to the task until the block ends."""
    await conn.execution_options(**{ATOMIC: True})
    try:
        async with conn.begin():
            token = _ATOMIC.set((db, conn))
            try:
                yield
            finally:
                _ATOMIC.reset(token)
    finally:  # what the connection runs next is not in a block
        await conn.execution_options(**{ATOMIC: False})


# What a store call raises when the database fails it (locked, read-only, full, gone, a
# constraint): SQLAlchemy's driver-neutral DBAPIError, or, for a server that can't be
# reached at all, the OSError of the connection attempt.
DB_ERRORS: tuple[type[Exception], ...] = (DBAPIError, OSError)


@asynccontextmanager
async def savepoint(db: Db) -> AsyncIterator[None]:
    """Inside ``atomic(db)``: ``async with savepoint(db):`` undoes only what the block
    wrote if it raises (a row that may break a constraint, tried on its own), leaving the
    rest of the transaction as it was."""
    bound = _ATOMIC.get()
    if bound is None or bound[0] is not db:
        raise RuntimeError("savepoint(db) is only for inside atomic(db)")
    async with bound[1].begin_nested():
        yield


def upsert(table: Any) -> postgresql.Insert:
    """``INSERT`` with ``.on_conflict_do_nothing()`` / ``.on_conflict_do_update()`` (and
    ``.excluded``) that compiles on SQLite and on PostgreSQL alike: use it for every
    upsert. (PostgreSQL's construct compiles on SQLite too; SQLite's does not compile on
    PostgreSQL, so ``sqlalchemy.dialects.sqlite.insert`` would tie a store to SQLite.)"""
    return postgresql.insert(table)


def dialect_name(db: Db) -> str:
    """``"sqlite"`` or ``"postgresql"``: for the few statements that differ (a lock that
    SQLite's single writer makes needless)."""
    return db.dialect


async def serialize(db: Db, name: str) -> None:
    """Inside ``atomic(db)``: wait until no other transaction holds ``name``, and hold it
    until this one ends. For a read-modify-write with no row to lock (a next number worked
    out from ``MAX``). On PostgreSQL a transaction-scoped advisory lock; on SQLite nothing,
    since ``atomic`` already holds the file's one write lock."""
    if dialect_name(db) == "postgresql":
        key = zlib.crc32(name.encode()) - 2**31  # a signed 32-bit key, the same every run
        await execute(db, select(func.pg_advisory_xact_lock(key)))


def inserted_id(result: CursorResult[Any]) -> int:
    """The id an INSERT of one row gave it (its integer primary key)."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise ValueError("the statement inserted no row with an integer primary key")
    return int(key[0])


__all__ = [
    "ATOMIC",
    "DB_ERRORS",
    "NAMING_CONVENTION",
    "Db",
    "Result",
    "UtcDateTime",
    "WriteLock",
    "atomic",
    "bind",
    "dialect_name",
    "execute",
    "inserted_id",
    "metadata",
    "savepoint",
    "serialize",
    "upsert",
    "utc_text",
]

