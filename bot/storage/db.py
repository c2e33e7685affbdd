"""Opening the database and applying migrations.

All store calls run on the event loop thread over one connection. Each call is short
and never awaits mid-transaction, so a store method is atomic with respect to every
other coroutine; that is what makes counts exact under bursts of concurrent clicks.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

log = logging.getLogger(__name__)


def open_db(path: str | Path) -> Database:
    """Open (creating if needed) the SQLite file in WAL mode."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    db = Database(conn)
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " domain TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,"
        " PRIMARY KEY (domain, version))"
    )
    return db


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

    Steps are forward-only and identified by position: never edit or reorder a
    released step, only append.
    """
    done = {
        row[0]
        for row in db.execute(
            "SELECT version FROM schema_migrations WHERE domain = ?", [domain]
        ).fetchall()
    }
    ran = 0
    for version, sql in enumerate(steps, start=1):
        if version in done:
            continue
        with transaction(db) as conn:
            for statement in _split(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (domain, version, applied_at) VALUES (?, ?, ?)",
                [domain, version, datetime.now(UTC).isoformat()],
            )
        ran += 1
        log.info("applied migration %s/%d", domain, version)
    return ran


def _split(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def ping(db: Database) -> bool:
    try:
        return db.execute("SELECT 1").fetchone()[0] == 1
    except sqlite3.Error:
        return False


class Checkpointer:
    """Copies the WAL back into the database file on its own thread.

    SQLite normally does this inside whichever commit pushes the WAL past 1,000 pages,
    fsyncs included: every few hundred writes one request would stall the event loop
    for milliseconds. Here the committing connection never checkpoints; a second
    connection on a thread runs a PASSIVE checkpoint (it never blocks writers) every
    ``interval`` seconds, and a final one at shutdown. sqlite3 releases the GIL while it
    works, so the event loop carries on meanwhile.
    """

    def __init__(self, db: Database, path: str, interval: float = 0.5):
        self.db = db
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> bool:
        if self.path == ":memory:" or self._thread is not None:
            return False
        self.db.execute("PRAGMA wal_autocheckpoint=0")
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            while not self._stop.wait(self.interval):
                self._checkpoint(conn)
                self.runs += 1
        finally:
            conn.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as e:
            log.warning("WAL checkpoint failed: %s", e)

    def join(self) -> None:
        """Stop the thread (blocking: call it off the event loop)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=10)

    def stop(self) -> None:
        """Stop the thread and hand checkpointing back to SQLite's own (at commit)."""
        if self._thread is None:
            return
        self.join()
        self._thread = None
        try:
            self.db.execute("PRAGMA wal_autocheckpoint=1000")
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as e:
            log.warning("WAL checkpoint at shutdown failed: %s", e)


async def checkpoint_worker(services) -> AsyncIterator[None]:
    """Background worker (see ``FeatureHost.add_background``): the WAL checkpointer."""
    checkpointer = Checkpointer(services.db, services.settings.db_path)
    checkpointer.start()
    services.extras["checkpointer"] = checkpointer
    yield
    await asyncio.get_running_loop().run_in_executor(None, checkpointer.join)
    checkpointer.stop()  # on the loop's thread, which owns the connection
