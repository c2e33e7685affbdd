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


# --- Core statements on the shared connection (bot/storage/sql.py) ---------------------

_demo = None


def _demo_table():
    """A table declared on its own MetaData, so the shared one holds only real tables."""
    global _demo
    if _demo is None:
        from sqlalchemy import Column, Integer, MetaData, Table, Text

        from bot.storage.sql import UtcDateTime

        _demo = Table(
            "demo", MetaData(), Column("id", Integer, primary_key=True),
            Column("name", Text, unique=True), Column("at", UtcDateTime),
        )  # fmt: skip
    return _demo


def _demo_db(tmp_path):
    from bot.storage.sql import engine_for

    db = open_db(tmp_path / "core.db")
    _demo_table().metadata.create_all(engine_for(db))
    return db


def test_core_statements_join_our_transaction_and_sqlalchemy_ends_none(tmp_path):
    """SQLAlchemy begins, commits and rolls back nothing: `transaction(db)` does, so Core
    statements inside it commit together, and one that fails (and is caught) leaves the
    transaction open for the rest."""
    from sqlalchemy import func, insert, select

    from bot.storage.db import transaction
    from bot.storage.sql import run

    db, demo = _demo_db(tmp_path), _demo_table()
    other = sqlite3.connect(tmp_path / "core.db")
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    with transaction(db):
        run(db, insert(demo).values(name="a", at=T0))
        with pytest.raises(sqlite3.IntegrityError):  # the driver's own error
            run(db, insert(demo).values(name="a", at=T0))
        run(db, insert(demo).values(name="b", at=T0))
        assert other.execute("SELECT COUNT(*) FROM demo").fetchone()[0] == 0  # not yet
    assert other.execute("SELECT COUNT(*) FROM demo").fetchone()[0] == 2
    verbs = [s.split()[0].upper() for s in seen]
    assert verbs == ["BEGIN", "INSERT", "INSERT", "INSERT", "COMMIT"]

    with pytest.raises(RuntimeError), transaction(db):
        run(db, insert(demo).values(name="c", at=T0))
        raise RuntimeError("the store call fails half-way")
    assert run(db, select(func.count()).select_from(demo)).scalar() == 2
    assert not db.conn.in_transaction

    run(db, insert(demo).values(name="d", at=T0))  # outside a transaction: autocommit
    assert other.execute("SELECT COUNT(*) FROM demo").fetchone()[0] == 3
    other.close()
    db.close()


def test_one_engine_per_database(tmp_path):
    from bot.storage.sql import engine_for

    db, second = open_db(tmp_path / "a.db"), open_db(tmp_path / "b.db")
    assert engine_for(db) is engine_for(db)
    assert engine_for(db) is not engine_for(second)
    db.close()
    second.close()


def test_utc_datetime_is_aware_in_and_aware_utc_out(tmp_path):
    from datetime import timezone

    from sqlalchemy import insert, select

    from bot.storage.sql import run

    db, demo = _demo_db(tmp_path), _demo_table()
    paris = datetime(2026, 6, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    run(db, insert(demo).values(name="paris", at=paris))
    at = run(db, select(demo.c.at).where(demo.c.name == "paris")).scalar()
    assert at == paris and at.tzinfo is UTC and at.hour == 9
    stored = db.execute("SELECT at FROM demo WHERE name = 'paris'").fetchone()[0]
    assert stored == "2026-06-01T09:30:00.000000+00:00"  # fixed width, as the quiz wrote it
    with pytest.raises(Exception, match="timezone-aware"):
        run(db, insert(demo).values(name="naive", at=datetime(2026, 6, 1, 9, 30)))
    db.close()


def test_utc_datetime_reads_every_spelling_already_on_disk_and_orders_with_it(tmp_path):
    """The four spellings of a time in today's files all read back as the same aware UTC
    time, and a new value compares with old rows as earlier or later, as before."""
    from sqlalchemy import select

    from bot.storage.sql import run

    db, demo = _demo_db(tmp_path), _demo_table()
    spellings = {
        "plain isoformat": "2026-06-01T09:30:00+00:00",
        "plain isoformat with microseconds": "2026-06-01T09:30:00.250000+00:00",
        "quiz iso": "2026-06-01T09:30:00.000000+00:00",
        "tips and paging": "2026-06-01T09:30:00.000000Z",
    }
    for name, text in spellings.items():
        db.execute("INSERT INTO demo (name, at) VALUES (?, ?)", [name, text])
    rows = dict(run(db, select(demo.c.name, demo.c.at)).all())
    whole = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    assert rows["plain isoformat with microseconds"] == whole + timedelta(microseconds=250000)
    assert all(rows[n] == whole for n in spellings if "microseconds" not in n)
    assert all(at.tzinfo is UTC for at in rows.values())

    earlier = run(db, select(demo.c.name).where(demo.c.at < whole - timedelta(seconds=1)))
    later = run(db, select(demo.c.name).where(demo.c.at > whole + timedelta(seconds=1)))
    assert earlier.all() == [] and later.all() == []
    within = select(demo.c.name).where(demo.c.at < whole + timedelta(hours=1))
    assert len(run(db, within).all()) == 4
    db.close()
