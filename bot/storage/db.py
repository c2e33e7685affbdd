"""Opening the database, getting it ready at start, and the readiness check's write.

:func:`open_db` makes the :class:`~bot.storage.sql.Db` for the SQLite file (aiosqlite)
or a PostgreSQL URL (asyncpg); nothing connects until :func:`prepare`, which the app
awaits before anything else: it checks the database answers and can be written, and
brings the schema up to date. Every statement then runs on a pooled connection, off
the event loop.

On SQLite each connection is in WAL mode with a busy timeout, and in the driver's
autocommit: a statement outside ``atomic`` commits by itself, and ``atomic`` begins with
``BEGIN IMMEDIATE`` (SQLAlchemy's recipe for pysqlite and aiosqlite: a ``begin`` hook
emits it), so the write lock is taken at the start of a block and a read inside one is
never stale.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import CheckConstraint, Column, Integer, Table, Text, event, literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlalchemy.util.concurrency import await_

from bot.storage.engine import create_engine_for
from bot.storage.sql import (
    ATOMIC,
    DB_ERRORS,
    Db,
    UtcDateTime,
    atomic,
    bind,
    execute,
    metadata,
    upsert,
)

log = logging.getLogger(__name__)

# How long a statement waits for another connection's write lock before failing.
BUSY_TIMEOUT_MS = 5000
# ... and the readiness check's much shorter wait: a probe should answer at once.
CHECK_BUSY_MS = 100
# How long the readiness check waits for PostgreSQL to take its write.
CHECK_SECONDS = 2.0
# SQLite copies the write-ahead log back into the file (a checkpoint, with the file's one
# fsync) in whichever commit finds the log over this many pages, holding the write lock:
# 1,000 by default, which put a checkpoint of tens of milliseconds on the acknowledging
# path every second or two under load. The background checkpointer
# (bot/storage/checkpoints.py) does the copying on a connection of its own; this stays as
# a safety net should it fall behind.
AUTO_CHECKPOINT_PAGES = 10_000


# Which of a domain's pre-Alembic steps a file has applied (bot/storage/migrations/).
schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("domain", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("applied_at", Text, nullable=False),  # written before UtcDateTime; never read
)
# One row that the readiness check rewrites (see write_problem).
core_write_check = Table(
    "core_write_check",
    metadata,
    Column(
        "id", Integer, CheckConstraint("id = 1", name="one_row"), primary_key=True,
        autoincrement=False,
    ),  # fmt: skip
    Column("checked_at", UtcDateTime, nullable=False),
)
_CHECK = upsert(core_write_check).values(id=1)
_CHECK = _CHECK.on_conflict_do_update(
    index_elements=[core_write_check.c.id], set_={"checked_at": _CHECK.excluded.checked_at}
)


def sqlite_url(path: str | Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def open_db(target: str | Path) -> Db:
    """The database at ``target``: a SQLAlchemy URL (``postgresql+asyncpg://...``) or the
    path of a SQLite file (made, with its folder, if missing). Nothing connects yet."""
    text = str(target)
    if "://" in text:
        url = text
    else:
        if text != ":memory:":
            Path(text).parent.mkdir(parents=True, exist_ok=True)
        url = sqlite_url(text)
    # An in-memory database (tests) exists once per connection: keep to one.
    options = {"poolclass": StaticPool} if text == ":memory:" else {}
    engine = create_engine_for(url, **options)
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_connected)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return Db(engine)


def _sqlite_connected(dbapi_connection: Any, record: Any) -> None:
    # The driver's autocommit: SQLAlchemy's begin hook below says when a transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        f"busy_timeout={BUSY_TIMEOUT_MS}",
        f"wal_autocheckpoint={AUTO_CHECKPOINT_PAGES}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """``atomic`` blocks (and the schema upgrade) take the write lock at once; a lone
    statement runs in the driver's autocommit, one statement, one commit."""
    if conn.get_execution_options().get(ATOMIC):
        # Straight to aiosqlite: one trip to its thread, where a statement through the
        # adapted cursor takes three (open, execute, close), each waiting for a turn of a
        # busy event loop; a tip fan-out begins a transaction every few posts.
        try:
            await_(conn.connection.driver_connection.execute("BEGIN IMMEDIATE"))
        except sqlite3.Error as e:  # as SQLAlchemy raises it (callers catch DB_ERRORS)
            raise DBAPIError.instance("BEGIN IMMEDIATE", (), e, sqlite3.Error) from e


async def prepare(db: Db) -> None:
    """The two tables that exist before any schema revision (the readiness check writes
    one before the schema is brought up to date; revision 0001 reads the other)."""
    async with db.engine.connect() as conn:
        await conn.execution_options(**{ATOMIC: True})
        async with conn.begin():
            await conn.run_sync(
                lambda c: metadata.create_all(c, tables=[schema_migrations, core_write_check])
            )


async def write_problem(db: Db, *, busy_ms: int = CHECK_BUSY_MS) -> str | None:
    """None if a tiny write commits now, else what stops it, in a few plain words.

    A read-only file or file system, a full disk, a write lock held by another process
    or a database server that has gone all let a process carry on until it writes, so
    only a real write, committed, finds them. On SQLite the wait for another process's
    lock is cut to ``busy_ms`` for this one write; on PostgreSQL the whole check has
    :data:`CHECK_SECONDS`.
    """
    params = {"checked_at": datetime.now(UTC)}
    try:
        if db.dialect != "sqlite":
            async with asyncio.timeout(max(CHECK_SECONDS, busy_ms / 1000)):
                await execute(db, _CHECK, params)
            return None
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_ms)}")
            await conn.commit()  # ends the autobegun (empty) transaction
            try:
                await conn.execution_options(**{ATOMIC: True})
                async with conn.begin():
                    await conn.execute(_CHECK, params)
            finally:
                await conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                await conn.commit()
        return None
    except TimeoutError:
        return "it does not answer"
    except DB_ERRORS as e:
        return describe_write_error(e)


_WRITE_ERRORS = {
    sqlite3.SQLITE_BUSY: "locked by another process",
    sqlite3.SQLITE_LOCKED: "locked by another process",
    sqlite3.SQLITE_READONLY: "read-only",
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_IOERR: "a disk error",
    sqlite3.SQLITE_CANTOPEN: "a file it needs can't be opened",
    sqlite3.SQLITE_PERM: "permission denied",
}


def describe_write_error(e: BaseException) -> str:
    """A few words for a failed write, from the driver's error (never a path)."""
    original = e.orig if isinstance(e, DBAPIError) else e
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None:
        return _WRITE_ERRORS.get(code & 0xFF, "it can't be written")
    from bot.storage.engine import reason

    return reason(e)


def migrate(conn: sqlite3.Connection, domain: str, steps: Sequence[str]) -> int:
    """Apply the domain's steps not yet applied, on a plain sqlite3 connection; returns
    how many ran.

    How the schema was applied before Alembic (revision 0001 now does the same for the
    frozen lists); kept so tests can build a file as an earlier secbot left it.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (domain TEXT NOT NULL,"
        " version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (domain, version))"
    )
    done = {
        int(r[0])
        for r in conn.execute("SELECT version FROM schema_migrations WHERE domain = ?", [domain])
    }
    ran = 0
    for version, sql in enumerate(steps, start=1):
        if version in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (domain, version, applied_at) VALUES (?, ?, ?)",
                [domain, version, datetime.now(UTC).isoformat()],
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        ran += 1
        log.info("applied migration %s/%d", domain, version)
    return ran


def _split(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


async def checkpoint(db: Db) -> tuple[int, int]:
    """Copy what the write-ahead log holds back into the SQLite file without waiting for
    (or holding up) readers and writers: ``PRAGMA wal_checkpoint(PASSIVE)`` on a pooled
    connection, in aiosqlite's thread. Returns the log's frames and how many of them are
    now in the file."""
    async with _checkpointing(db), db.engine.connect() as conn:
        row: Any = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")).first()
        await conn.commit()
    return (int(row[1]), int(row[2])) if row is not None else (0, 0)


# One checkpoint at a time per database in this process: SQLite answers a checkpoint
# started while another runs with SQLITE_BUSY and does nothing, and ``erasing`` must not
# have its TRUNCATE skipped because the background one happened to be running.
_CHECKPOINTS: weakref.WeakKeyDictionary[Db, asyncio.Lock] = weakref.WeakKeyDictionary()


def _checkpointing(db: Db) -> asyncio.Lock:
    lock = _CHECKPOINTS.get(db)
    if lock is None:
        lock = _CHECKPOINTS[db] = asyncio.Lock()
    return lock


async def ping(db: Db) -> bool:
    """Whether the database answers a trivial query."""
    try:
        return (await execute(db, select(literal(1)))).scalar() == 1
    except DB_ERRORS:
        return False


@asynccontextmanager
async def erasing(db: Db) -> AsyncIterator[None]:
    """``async with erasing(db):`` is ``atomic(db)`` for a write that must leave no copy
    of what it replaces or deletes: on SQLite the block's connection overwrites freed
    pages (``secure_delete``), and afterwards the write-ahead log is checkpointed and
    truncated. (On PostgreSQL it is ``atomic``: old row versions go at the next vacuum.)"""
    if db.dialect != "sqlite":
        async with atomic(db):
            yield
        return
    async with db.engine.connect() as conn:
        was = (await conn.exec_driver_sql("PRAGMA secure_delete")).scalar()
        await conn.exec_driver_sql("PRAGMA secure_delete=ON")
        await conn.commit()
        try:
            async with bind(db, conn):
                yield
            async with _checkpointing(db):
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                await conn.commit()
        finally:
            await conn.exec_driver_sql(f"PRAGMA secure_delete={int(was or 0)}")
            await conn.commit()
