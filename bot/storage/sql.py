"""Tables declared once, queries built with SQLAlchemy Core (storage v2, step 1).

Every store declares its tables on the one :data:`metadata` below, with the same table
and column names as the schema already on disk, and builds its statements with Core
(``select``, ``insert``, ``update``, ``delete``) instead of writing SQL strings. The
statements run through :func:`run` on a *synchronous* engine over the Database's one
sqlite3 connection, so a store call is still a few statements on the loop thread that
never await: atomic with respect to every other coroutine, as before, and callers do
not change. (Step 2 moves to an asynchronous engine, aiosqlite or asyncpg, all at once;
mixing an async engine with this sync writer on one file could deadlock the loop.)

Transactions stay ours: ``with transaction(db):`` (``BEGIN IMMEDIATE`` … ``COMMIT``)
wraps Core statements exactly as it wraps raw ones. SQLAlchemy never begins, commits or
rolls back anything on this connection (its dialect here does none of that, and the pool
resets nothing), so a statement outside ``transaction`` commits on its own, as before.

Errors are the driver's own (``sqlite3.IntegrityError``, ``sqlite3.OperationalError``…),
not SQLAlchemy's wrappers, so the callers that catch ``sqlite3.Error`` keep working until
step 2 switches every caller to driver-neutral errors at once.

Time columns use :class:`UtcDateTime`: an aware datetime in, an aware UTC datetime out.
"""

from __future__ import annotations

import sqlite3
import weakref
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    DateTime,
    Dialect,
    Engine,
    Executable,
    MetaData,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine.interfaces import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlite_utils import Database

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


class _SharedConnectionDialect(SQLiteDialect_pysqlite):
    """pysqlite, minus transaction control: the connection belongs to the Database.

    ``transaction(db)`` issues ``BEGIN IMMEDIATE``/``COMMIT``/``ROLLBACK`` itself on the
    autocommit connection (``isolation_level=None``). SQLAlchemy's own commit and
    rollback (a connection returned to the pool is rolled back, for one) would end that
    transaction half-way through a store call, so here they do nothing.
    """

    supports_statement_cache = True

    def do_begin(self, dbapi_connection: Any) -> None:
        pass

    def do_commit(self, dbapi_connection: Any) -> None:
        pass

    def do_rollback(self, dbapi_connection: Any) -> None:
        pass


registry.register("sqlite.secbot_shared", __name__, "_SharedConnectionDialect")


class _Bound:
    """The engine for one Database, and the one Core connection store calls share."""

    __slots__ = ("engine", "connection")

    def __init__(self, conn: sqlite3.Connection):
        self.engine = create_engine(
            "sqlite+secbot_shared://",
            creator=lambda: conn,
            poolclass=StaticPool,
            pool_reset_on_return=None,
        )
        event.listen(self.engine, "handle_error", _driver_error)
        self.connection: Connection = self.engine.connect()


def _driver_error(ctx: ExceptionContext) -> BaseException | None:
    """Raise the driver's error itself (see the module docstring), and never take a
    closed or failing connection for a lost one to be replaced: there is only this one."""
    ctx.is_disconnect = False
    ctx.invalidate_pool_on_disconnect = False
    if isinstance(ctx.original_exception, sqlite3.Error):
        return ctx.original_exception
    return None


_BOUND: weakref.WeakKeyDictionary[Database, _Bound] = weakref.WeakKeyDictionary()


def _bound(db: Database) -> _Bound:
    bound = _BOUND.get(db)
    if bound is None:
        bound = _BOUND[db] = _Bound(db.conn)
    return bound


def engine_for(db: Database) -> Engine:
    """The synchronous SQLAlchemy engine over ``db``'s one connection (made once per
    Database). Prefer :func:`run`; use the engine for what needs one (Alembic,
    ``metadata.create_all`` in a test, ``inspect``)."""
    return _bound(db).engine


def connection_for(db: Database) -> Connection:
    """The Core connection :func:`run` uses (one per Database, never closed by us)."""
    return _bound(db).connection


def run(
    db: Database, statement: Executable, params: dict[str, Any] | list[dict[str, Any]] | None = None
) -> CursorResult[*tuple[Any, ...]]:  # rows of any width
    """Execute a Core statement on ``db`` now, inside ``transaction(db)`` if one is open.

    Consume the result at once (``.all()``, ``.first()``, ``.scalar()``,
    ``.one_or_none()``, ``.rowcount``, ``.inserted_primary_key``): a half-read SELECT
    keeps a read snapshot open. A list of ``params`` runs the statement once per dict
    (``executemany``).
    """
    return _bound(db).connection.execute(statement, params)


async def execute(
    db: Database, statement: Executable, params: dict[str, Any] | list[dict[str, Any]] | None = None
) -> CursorResult[*tuple[Any, ...]]:  # rows of any width
    """The asynchronous way to run a Core statement: ``await execute(db, stmt)``.

    Storage v2 moves every store to this call and :func:`atomic`, domain by domain, and
    then swaps the engine underneath for an asynchronous one (aiosqlite, asyncpg) in one
    place. Until that swap it runs :func:`run` at once and never suspends, so a store
    method written with it is still atomic with respect to other coroutines; written
    with it, the method is ready for the swap. Consume the result as with :func:`run`.
    Inside ``async with atomic(db)`` the statement joins that transaction.
    """
    return run(db, statement, params)


@asynccontextmanager
async def atomic(db: Database) -> AsyncIterator[None]:
    """``async with atomic(db):`` makes the statements inside commit together or not at all.

    Wrap every store method that writes more than one statement, or reads and then
    writes (read-modify-write), in it: after the engine swap, coroutines interleave
    between statements that are not in one transaction. On SQLite it is ``BEGIN
    IMMEDIATE`` (the write lock is taken at the start, so a read inside is never stale);
    on PostgreSQL a read that decides a write uses ``select(...).with_for_update()``
    (ignored on SQLite). An ``atomic`` inside another joins the outer one. Never start a
    task or await the network inside: the lock is held until the block ends.
    """
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


# What a store call raises when the database fails it (locked, read-only, full, gone, a
# constraint). Catch this, never a driver's own class: today the driver's errors come
# through unwrapped (sqlite3.Error, see the module docstring); after the engine swap they
# are SQLAlchemy's driver-neutral DBAPIError (IntegrityError, OperationalError...).
DB_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, DBAPIError)


def upsert(table: Any) -> postgresql.Insert:
    """``INSERT`` with ``.on_conflict_do_nothing()`` / ``.on_conflict_do_update()`` (and
    ``.excluded``) that compiles on SQLite and on PostgreSQL alike: use it for every
    upsert. (PostgreSQL's construct compiles on SQLite too; SQLite's does not compile on
    PostgreSQL, so ``sqlalchemy.dialects.sqlite.insert`` would tie a store to SQLite.)"""
    return postgresql.insert(table)


def dialect_name(db: Database) -> str:
    """``"sqlite"`` or ``"postgresql"``: for the few statements that differ (a lock that
    SQLite's single writer makes needless, an upsert's dialect)."""
    return engine_for(db).dialect.name


async def serialize(db: Database, name: str) -> None:
    """Inside ``atomic(db)``: wait until no other transaction holds ``name``, and hold it
    until this one ends. For a read-modify-write with no row to lock (a next number worked
    out from ``MAX``). On PostgreSQL a transaction-scoped advisory lock; on SQLite nothing,
    since ``atomic`` already holds the file's one write lock."""
    if dialect_name(db) == "postgresql":
        key = zlib.crc32(name.encode()) - 2**31  # a signed 32-bit key, the same every run
        await execute(db, select(func.pg_advisory_xact_lock(key)))


@asynccontextmanager
async def savepoint(db: Database) -> AsyncIterator[None]:
    """Inside ``atomic(db)``: ``async with savepoint(db):`` undoes only what the block
    wrote if it raises (a row that may break a constraint, tried on its own), leaving the
    rest of the transaction as it was. (Use this, not ``connection_for(db).begin_nested()``:
    it keeps working after the engine swap.)"""
    if not db.conn.in_transaction:
        raise RuntimeError("savepoint(db) is only for inside atomic(db)")
    with connection_for(db).begin_nested():
        yield


def inserted_id(result: CursorResult[Any]) -> int:
    """The id an INSERT of one row gave it (its integer primary key)."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise ValueError("the statement inserted no row with an integer primary key")
    return int(key[0])


__all__ = [
    "DB_ERRORS",
    "NAMING_CONVENTION",
    "UtcDateTime",
    "atomic",
    "connection_for",
    "dialect_name",
    "engine_for",
    "execute",
    "inserted_id",
    "metadata",
    "run",
    "savepoint",
    "serialize",
    "upsert",
    "utc_text",
]
