"""Opening the database and applying migrations.

All store calls run on the event loop thread over one connection. Each call is short
and never awaits mid-transaction, so a store method is atomic with respect to every
other coroutine; that is what makes counts exact under bursts of concurrent clicks.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
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
