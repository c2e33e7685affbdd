"""Opening the database, transactions, and the readiness check's write.

All store calls run on the event loop thread over one connection. Each call is short
and never awaits mid-transaction, so a store method is atomic with respect to every
other coroutine; that is what makes counts exact under bursts of concurrent clicks.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import CheckConstraint, Column, Integer, Table, Text, literal, select
from sqlite_utils import Database

from bot.storage.sql import (
    DB_ERRORS,
    UtcDateTime,
    dialect_name,
    engine_for,
    execute,
    metadata,
    run,
    upsert,
)

log = logging.getLogger(__name__)

# How long a statement waits for another connection's write lock before failing.
BUSY_TIMEOUT_MS = 5000
# ... and the readiness check's much shorter wait: it runs on the event loop.
CHECK_BUSY_MS = 100


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


def open_db(path: str | Path) -> Database:
    """Open (creating if needed) the SQLite file in WAL mode."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    db = Database(conn)
    # Before any schema revision: the readiness check writes here before the schema is
    # brought up to date, and revision 0001 reads what earlier code recorded.
    metadata.create_all(engine_for(db), tables=[schema_migrations, core_write_check])
    return db


def write_problem(db: Database, *, busy_ms: int = CHECK_BUSY_MS) -> str | None:
    """None if a tiny write commits now, else what stops it, in a few plain words.

    A read-only file or file system, a full disk and a write lock held by another
    process all let reads carry on, so only a real write, committed, finds them. It
    runs on the event loop thread over the one connection (a second connection in a
    thread would interleave with store calls), so the wait for another process's lock
    is cut to ``busy_ms`` for this one call: the loop is held up for at most that.
    """
    conn = db.conn
    conn.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    try:
        conn.execute("BEGIN IMMEDIATE")
        run(db, _CHECK, {"checked_at": datetime.now(UTC)})
        conn.execute("COMMIT")
        return None
    except sqlite3.Error as e:
        return describe_write_error(e)
    finally:
        if conn.in_transaction:  # a failed COMMIT leaves the transaction open
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        with suppress(sqlite3.Error):
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


_WRITE_ERRORS = {
    sqlite3.SQLITE_BUSY: "locked by another process",
    sqlite3.SQLITE_LOCKED: "locked by another process",
    sqlite3.SQLITE_READONLY: "read-only",
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_IOERR: "a disk error",
    sqlite3.SQLITE_CANTOPEN: "a file it needs can't be opened",
    sqlite3.SQLITE_PERM: "permission denied",
}


def describe_write_error(e: sqlite3.Error) -> str:
    """A few words for a failed write, from SQLite's error code (never a path)."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is None:
        return "it can't be written"
    return _WRITE_ERRORS.get(code & 0xFF, "it can't be written")


@contextmanager
def transaction(db: Database):
    """BEGIN IMMEDIATE … COMMIT, rolling back on error."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def migrate(db: Database, domain: str, steps: Sequence[str]) -> int:
    """Apply the domain's steps not yet applied; returns how many ran.

    How the schema was applied before Alembic (revision 0001 now does the same for the
    frozen lists); kept so tests can build a file as an earlier secbot left it.
    """
    query = select(schema_migrations.c.version).where(schema_migrations.c.domain == domain)
    done = {int(r[0]) for r in run(db, query).all()}
    ran = 0
    for version, sql in enumerate(steps, start=1):
        if version in done:
            continue
        with transaction(db) as conn:
            for statement in _split(sql):
                conn.execute(statement)
            run(
                db,
                schema_migrations.insert().values(
                    domain=domain, version=version, applied_at=datetime.now(UTC).isoformat()
                ),
            )
        ran += 1
        log.info("applied migration %s/%d", domain, version)
    return ran


def _split(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


async def ping(db: Database) -> bool:
    """Whether the database answers a trivial query."""
    try:
        return (await execute(db, select(literal(1)))).scalar() == 1
    except DB_ERRORS:
        return False


@contextmanager
def erasing(db: Database) -> Iterator[None]:
    """Inside, what a write replaces or deletes is overwritten on disk (SQLite's
    ``secure_delete``); afterwards the write-ahead log is checkpointed and truncated, so
    a scrubbed secret leaves no copy in the file or the log. Wrap the whole ``atomic``
    that writes (the checkpoint needs its transaction finished). Elsewhere than SQLite it
    does nothing (PostgreSQL's VACUUM is the operator's)."""
    if dialect_name(db) != "sqlite":
        yield
        return
    conn = db.conn
    was = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA secure_delete=ON")
    try:
        yield
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.execute(f"PRAGMA secure_delete={int(was)}")
