"""Storage: forward-only migrations, and processed deliveries that are pruned, not kept forever."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clock import FakeClock
from bot.storage import deliveries
from bot.storage.db import migrate, open_db
from tests.support import eventually, start_bot, stop_bot

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_migrations_run_once_in_order_and_only_new_steps_later(tmp_path):
    db = open_db(tmp_path / "m.db")
    steps = ["CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y TEXT"]
    assert migrate(db, "demo", steps) == 2
    assert migrate(db, "demo", steps) == 0  # applied steps are never re-run
    assert migrate(db, "demo", [*steps, "CREATE INDEX a_y ON a (y)"]) == 1
    versions = db.execute(
        "SELECT version FROM schema_migrations WHERE domain = 'demo' ORDER BY version"
    ).fetchall()
    assert [v[0] for v in versions] == [1, 2, 3]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_failing_step_rolls_back_and_is_not_recorded(tmp_path):
    db = open_db(tmp_path / "m.db")
    bad = ["CREATE TABLE b (x INTEGER); INSERT INTO b VALUES (1); INSERT INTO nowhere VALUES (1)"]
    with pytest.raises(sqlite3.OperationalError):
        migrate(db, "demo", bad)
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'b'").fetchone() is None
    assert db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == 0


def test_prune_forgets_only_old_deliveries(tmp_path):
    db = open_db(tmp_path / "d.db")
    migrate(db, deliveries.DOMAIN, deliveries.MIGRATIONS)
    store = deliveries.DeliveryStore(db)
    assert store.claim("old", T0 - timedelta(days=8))
    assert store.claim("recent", T0 - timedelta(days=6))
    assert store.prune(T0) == 1
    assert not store.seen("old") and store.seen("recent")
    assert store.claim("old", T0)  # an id seen again after a week counts as new


async def test_the_app_prunes_at_start_up_and_then_daily(tmp_path):
    path = tmp_path / "p.db"
    db = open_db(path)
    migrate(db, deliveries.DOMAIN, deliveries.MIGRATIONS)
    deliveries.DeliveryStore(db).claim("slack:evt:ancient", T0 - timedelta(days=30))
    db.close()

    clock = FakeClock(T0)
    bot = await start_bot({"SECBOT_DB": str(path)}, clock=clock, features=[], content=False)
    try:
        from app import SERVICES

        store = bot.app[SERVICES].deliveries
        await eventually(lambda: not store.seen("slack:evt:ancient"))  # pruned at start-up
        store.claim("teams:a:1", T0 - timedelta(days=6, hours=12))
        store.claim("teams:a:2", T0)
        await clock.advance(days=1)
        await eventually(lambda: not store.seen("teams:a:1"))  # pruned a day later
        assert store.seen("teams:a:2")
    finally:
        await stop_bot(bot)


def test_web_chat_next_version_reads_an_index(tmp_path):
    from bot.adapters.web import chat as webchat
    from bot.storage.db import migrate, open_db

    db = open_db(tmp_path / "w.db")
    migrate(db, webchat.DOMAIN, webchat.MIGRATIONS)
    plan = " | ".join(
        r[3]
        for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT COALESCE(MAX(version), 0) + 1 FROM webchat_messages"
        )
    )
    assert "webchat_messages_version" in plan and "SCAN" not in plan
    db.close()
