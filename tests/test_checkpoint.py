"""The WAL is checkpointed on a thread, not inside whichever request's commit fills it."""

from __future__ import annotations

import os
import time

from bot.storage.db import Checkpointer, open_db


def _wal_kib(path) -> int:
    return os.path.getsize(f"{path}-wal") // 1024


def _write(db, n: int) -> None:
    for i in range(n):
        db.execute("INSERT INTO t (body) VALUES (?)", ["x" * 3000 + str(i)])


def _wait_for_runs(cp: Checkpointer, at_least: int) -> None:
    deadline = time.monotonic() + 10
    while cp.runs < at_least and time.monotonic() < deadline:
        time.sleep(0.005)
    assert cp.runs >= at_least


def test_the_checkpointer_keeps_the_wal_from_growing(tmp_path):
    path = tmp_path / "c.db"
    db = open_db(path)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    cp = Checkpointer(db, str(path), interval=0.01)
    assert cp.start()
    try:
        assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        sizes = []
        for _ in range(6):  # 6 x 300 one-page commits, a checkpoint between each batch
            _write(db, 300)
            _wait_for_runs(cp, cp.runs + 2)
            sizes.append(_wal_kib(path))
    finally:
        cp.stop()
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    db.conn.close()
    # The same writes with no checkpoint at all: the WAL holds every commit.
    control = open_db(tmp_path / "control.db")
    control.execute("PRAGMA wal_autocheckpoint=0")
    control.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    _write(control, 1800)
    unchecked = _wal_kib(tmp_path / "control.db")
    control.conn.close()
    # Checkpointed, the WAL is reused from the start after each checkpoint: it stays
    # at about one batch instead of growing with every commit.
    assert sizes[-1] <= sizes[0] * 1.5, sizes
    assert max(sizes) * 3 < unchecked, (sizes, unchecked)


def test_without_the_checkpointer_the_commit_does_it(tmp_path):
    """The fallback the checkpointer replaces (and restores at stop): SQLite's own."""
    path = tmp_path / "d.db"
    db = open_db(path)
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    assert not Checkpointer(db, ":memory:").start()
    db.conn.close()


async def test_the_app_runs_the_checkpointer_and_stops_it(running):
    from app import SERVICES

    services = running.app[SERVICES]
    cp = services.extras["checkpointer"]
    assert services.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    await running.runner.cleanup()
    assert cp._thread is None and cp._stop.is_set()
