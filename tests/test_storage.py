"""Storage: forward-only migrations, and processed deliveries that are pruned, not kept forever."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clock import FakeClock
from bot.storage import deliveries
from bot.storage.db import migrate, open_db
from bot.storage.schema import upgrade
from tests.support import (
    database_url_for,
    eventually,
    raw_file,
    ready_db,
    sqlite_file,
    start_bot,
    stop_bot,
)

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_migrations_run_once_in_order_and_only_new_steps_later(tmp_path):
    db = sqlite_file(tmp_path / "m.db")
    steps = ["CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y TEXT"]
    assert migrate(db.conn, "demo", steps) == 2
    assert migrate(db.conn, "demo", steps) == 0  # applied steps are never re-run
    assert migrate(db.conn, "demo", [*steps, "CREATE INDEX a_y ON a (y)"]) == 1
    versions = db.execute(
        "SELECT version FROM schema_migrations WHERE domain = 'demo' ORDER BY version"
    ).fetchall()
    assert [v[0] for v in versions] == [1, 2, 3]


@pytest.mark.sqlite_only("checks SQLite's own journal mode (WAL)")
async def test_the_app_opens_sqlite_in_wal_mode(tmp_path):
    db = await ready_db(tmp_path / "w.db")
    await db.close()
    assert sqlite_file(tmp_path / "w.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_failing_step_rolls_back_and_is_not_recorded(tmp_path):
    db = sqlite_file(tmp_path / "m.db")
    bad = ["CREATE TABLE b (x INTEGER); INSERT INTO b VALUES (1); INSERT INTO nowhere VALUES (1)"]
    with pytest.raises(sqlite3.OperationalError):
        migrate(db.conn, "demo", bad)
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'b'").fetchone() is None
    assert db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == 0


async def test_prune_forgets_only_old_deliveries(tmp_path):
    db = await ready_db(tmp_path / "d.db")
    store = deliveries.DeliveryStore(db)
    assert await store.claim("old", T0 - timedelta(days=8))
    assert await store.claim("recent", T0 - timedelta(days=6))
    assert await store.prune(T0) == 1
    assert not await store.seen("old") and await store.seen("recent")
    assert await store.claim("old", T0)  # an id seen again after a week counts as new
    await db.close()


async def test_claimed_and_finished_deliveries_are_pruned_like_kept_ones(tmp_path):
    """A delivery answered in the request is claimed with a lease, then finished; the
    daily prune forgets it by when it was first seen, whatever its state."""
    db = await ready_db(tmp_path / "states.db")
    store = deliveries.DeliveryStore(db)
    old = T0 - timedelta(days=8)
    assert await store.begin("web:u:finished", old, "me") is deliveries.Claim.NEW
    await store.finish("web:u:finished", old, "me")
    assert await store.begin("web:u:finished", T0, "me") is deliveries.Claim.REPEAT
    assert await store.begin("web:u:died", old, "gone") is deliveries.Claim.NEW
    assert await store.begin("web:u:live", T0, "me") is deliveries.Claim.NEW
    assert await store.begin("web:u:live", T0, "other") is deliveries.Claim.WORKING
    removed = await deliveries.pruner(db, deliveries.KEEP).batch(T0 - deliveries.KEEP, 100)
    assert removed == 2
    assert not await store.seen("web:u:finished") and not await store.seen("web:u:died")
    assert await store.seen("web:u:live")
    await db.close()


async def test_the_app_prunes_at_start_up_and_then_daily(tmp_path):
    path = tmp_path / "p.db"
    db = await ready_db(path)
    await deliveries.DeliveryStore(db).claim("slack:evt:ancient", T0 - timedelta(days=30))
    await db.close()

    clock = FakeClock(T0)
    bot = await start_bot({"SECBOT_DB": str(path)}, clock=clock, features=[], content=False)
    try:
        from app import SERVICES

        store = bot.app[SERVICES].deliveries
        async def gone(key: str) -> bool:
            return not await store.seen(key)

        await eventually(lambda: gone("slack:evt:ancient"))  # pruned at start-up
        await store.claim("teams:a:1", T0 - timedelta(days=6, hours=12))
        await store.claim("teams:a:2", T0)
        await clock.advance(days=1)
        await eventually(lambda: gone("teams:a:1"))  # pruned a day later
        assert await store.seen("teams:a:2")
    finally:
        await stop_bot(bot)


@pytest.mark.sqlite_only("reads SQLite's query plan")
async def test_web_chat_next_version_reads_an_index(tmp_path):
    await (await ready_db(tmp_path / "w.db")).close()
    db = sqlite_file(tmp_path / "w.db")
    plan = " | ".join(
        r[3]
        for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT COALESCE(MAX(version), 0) + 1 FROM webchat_messages"
        )
    )
    assert "webchat_messages_version" in plan and "SCAN" not in plan
    db.close()


# --- Core statements on the asynchronous engine (bot/storage/sql.py) -------------------

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


async def _demo_db(tmp_path):
    """A database of its own with the demo table: the SQLite file, or on PostgreSQL the
    database that stands for it."""
    path = tmp_path / "core.db"
    db = open_db(database_url_for(path) or path)
    async with db.engine.begin() as conn:
        await conn.run_sync(_demo_table().metadata.create_all)
    return db


async def test_atomic_commits_together_joins_an_outer_one_and_rolls_back_on_error(tmp_path):
    """Statements in one `atomic` block commit together (another connection sees none of
    them before the end), a nested block joins the outer one, an error rolls the whole
    block back, and a failing statement raises SQLAlchemy's driver-neutral error."""
    from sqlalchemy import func, insert, select
    from sqlalchemy.exc import IntegrityError

    from bot.storage.sql import atomic, execute

    db, demo = await _demo_db(tmp_path), _demo_table()
    other = raw_file(tmp_path / "core.db")
    async with atomic(db):
        await execute(db, insert(demo).values(name="a", at=T0))
        async with atomic(db):
            await execute(db, insert(demo).values(name="b", at=T0))
        assert other.execute("SELECT COUNT(*) FROM demo").fetchone()[0] == 0  # not yet
    assert other.execute("SELECT COUNT(*) FROM demo").fetchone()[0] == 2

    with pytest.raises(RuntimeError):
        async with atomic(db):
            await execute(db, insert(demo).values(name="c", at=T0))
            raise RuntimeError("the store call fails half-way")
    with pytest.raises(IntegrityError):
        await execute(db, insert(demo).values(name="a", at=T0))
    assert (await execute(db, select(func.count()).select_from(demo))).scalar() == 2

    await execute(db, insert(demo).values(name="d", at=T0))  # outside a block: autocommit
    assert other.execute("SELECT COUNT(*) FROM demo").fetchone()[0] == 3
    other.close()
    await db.close()


async def test_a_statement_brings_back_its_rows_counts_and_new_id(tmp_path):
    """What a statement tells its caller, through the app's engine (on SQLite each
    statement is one trip to the driver's thread: bot/storage/sqlite_trips.py): the id
    of an inserted row, the rows a RETURNING or a SELECT gives, and how many rows an
    UPDATE changed, in and out of an ``atomic`` block."""
    from sqlalchemy import insert, select, update

    from bot.storage.sql import atomic, execute, inserted_id

    db, demo = await _demo_db(tmp_path), _demo_table()
    first = inserted_id(await execute(db, insert(demo).values(name="a", at=T0)))
    await execute(db, insert(demo), [{"name": n, "at": T0} for n in ("b", "c", "d")])
    async with atomic(db):
        back = await execute(
            db, update(demo).where(demo.c.name != "a").values(at=T0 + timedelta(days=1))
            .returning(demo.c.name)
        )  # fmt: skip
        assert sorted(back.scalars().all()) == ["b", "c", "d"]
        changed = await execute(db, update(demo).where(demo.c.name == "a").values(name="e"))
        assert changed.rowcount == 1
    rows = (await execute(db, select(demo.c.id, demo.c.name).order_by(demo.c.id))).all()
    assert [tuple(r) for r in rows][0] == (first, "e")
    assert [r.name for r in rows] == ["e", "b", "c", "d"]
    empty = await execute(db, select(demo.c.id).where(demo.c.name == "nobody"))
    assert empty.first() is None
    await db.close()


async def test_a_savepoint_undoes_only_its_own_block(tmp_path):
    from sqlalchemy import func, insert, select

    from bot.storage.sql import DB_ERRORS, atomic, execute, savepoint

    db, demo = await _demo_db(tmp_path), _demo_table()
    async with atomic(db):
        await execute(db, insert(demo).values(name="a", at=T0))
        with pytest.raises(DB_ERRORS):
            async with savepoint(db):
                await execute(db, insert(demo).values(name="b", at=T0))
                await execute(db, insert(demo).values(name="a", at=T0))  # a duplicate
        await execute(db, insert(demo).values(name="c", at=T0))
    names = (await execute(db, select(demo.c.name).order_by(demo.c.name))).scalars().all()
    assert names == ["a", "c"]
    assert (await execute(db, select(func.count()).select_from(demo))).scalar() == 2
    await db.close()


async def test_concurrent_read_modify_writes_in_atomic_lose_no_update(tmp_path):
    """The point of `atomic` once statements really interleave: 50 coroutines each read a
    counter and write it back plus one; inside `atomic` (BEGIN IMMEDIATE on SQLite, the
    deciding read FOR UPDATE on PostgreSQL) none is lost."""
    import asyncio

    from sqlalchemy import insert, select, update

    from bot.storage.sql import atomic, execute

    db, demo = await _demo_db(tmp_path), _demo_table()
    await execute(db, insert(demo).values(id=1, name="0", at=T0))

    async def bump() -> None:
        async with atomic(db):
            query = select(demo.c.name).where(demo.c.id == 1).with_for_update()
            row = (await execute(db, query)).scalar()  # FOR UPDATE: PostgreSQL's row lock
            await asyncio.sleep(0)  # let the others run between the read and the write
            await execute(db, update(demo).where(demo.c.id == 1).values(name=str(int(row) + 1)))

    await asyncio.gather(*(bump() for _ in range(50)))
    assert (await execute(db, select(demo.c.name))).scalar() == "50"
    await db.close()


async def test_utc_datetime_is_aware_in_and_aware_utc_out(tmp_path):
    from datetime import timezone

    from sqlalchemy import insert, select

    from bot.storage.sql import execute

    db, demo = await _demo_db(tmp_path), _demo_table()
    paris = datetime(2026, 6, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    await execute(db, insert(demo).values(name="paris", at=paris))
    at = (await execute(db, select(demo.c.at).where(demo.c.name == "paris"))).scalar()
    assert at == paris and at.tzinfo is UTC and at.hour == 9
    if db.dialect == "sqlite":  # on PostgreSQL it is a TIMESTAMP WITH TIME ZONE
        stored = sqlite_file(tmp_path / "core.db").execute(
            "SELECT at FROM demo WHERE name = 'paris'"
        ).fetchone()[0]
        assert stored == "2026-06-01T09:30:00.000000+00:00"  # fixed width, as the quiz wrote it
    with pytest.raises(Exception, match="timezone-aware"):
        await execute(db, insert(demo).values(name="naive", at=datetime(2026, 6, 1, 9, 30)))
    await db.close()


async def test_utc_datetime_reads_every_spelling_already_on_disk_and_orders_with_it(tmp_path):
    """The four spellings of a time in today's files all read back as the same aware UTC
    time, and a new value compares with old rows as earlier or later, as before."""
    from sqlalchemy import select

    from bot.storage.sql import execute

    db, demo = await _demo_db(tmp_path), _demo_table()
    spellings = {
        "plain isoformat": "2026-06-01T09:30:00+00:00",
        "plain isoformat with microseconds": "2026-06-01T09:30:00.250000+00:00",
        "quiz iso": "2026-06-01T09:30:00.000000+00:00",
        "tips and paging": "2026-06-01T09:30:00.000000Z",
    }
    raw = sqlite_file(tmp_path / "core.db")
    for name, text in spellings.items():
        raw.execute("INSERT INTO demo (name, at) VALUES (?, ?)", [name, text])
    raw.close()
    rows = dict((await execute(db, select(demo.c.name, demo.c.at))).all())
    whole = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    assert rows["plain isoformat with microseconds"] == whole + timedelta(microseconds=250000)
    assert all(rows[n] == whole for n in spellings if "microseconds" not in n)
    assert all(at.tzinfo is UTC for at in rows.values())

    earlier = select(demo.c.name).where(demo.c.at < whole - timedelta(seconds=1))
    later = select(demo.c.name).where(demo.c.at > whole + timedelta(seconds=1))
    assert (await execute(db, earlier)).all() == [] and (await execute(db, later)).all() == []
    within = select(demo.c.name).where(demo.c.at < whole + timedelta(hours=1))
    assert len((await execute(db, within)).all()) == 4
    await db.close()


# --- the schema: Alembic at start and for operators (bot/storage/schema.py) -------------


def _secbot(*args: str, db_path, env: dict | None = None):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SECBOT_")}
    environ.update({"SECBOT_DB": str(db_path), **(env or {})})
    return subprocess.run(
        [sys.executable, str(root / "app.py"), *args], cwd=db_path.parent, env=environ,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_operators_upgrade_and_inspect_the_schema_by_hand(tmp_path):
    from bot.storage.schema import head

    path = tmp_path / "ops.db"
    first = _secbot("db", "current", db_path=path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"Schema revision none (a new database): the code's is {head()}."
    up = _secbot("db", "upgrade", db_path=path)
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip().startswith(f"Upgraded the schema to revision {head()}")
    again = _secbot("db", "upgrade", db_path=path)
    assert again.stdout.strip() == f"The schema is up to date (revision {head()})."
    now = _secbot("db", "current", db_path=path)
    assert now.stdout.strip() == f"Schema revision {head()}: up to date."


async def test_a_schema_newer_than_the_code_refuses_to_start_with_one_line(tmp_path):
    path = tmp_path / "newer.db"
    await (await ready_db(path)).close()
    db = sqlite_file(path)
    db.execute("UPDATE alembic_version SET version_num = '9999'")  # a later secbot's
    db.close()
    for args in [(), ("db", "upgrade")]:
        proc = _secbot(*args, db_path=path, env={"SECBOT_MODE": "development"})
        assert proc.returncode == 2, proc.stderr
        problem = [line for line in proc.stderr.splitlines() if "9999" in line]
        assert len(problem) == 1 and "newer than this secbot knows" in problem[0]
        assert str(path) in problem[0] and "Traceback" not in proc.stderr
    db = sqlite_file(path)
    assert db.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "9999"
    db.close()


async def test_the_upgrade_is_one_transaction(tmp_path):
    """A step that fails leaves the file as it was: no table, no revision, no record."""
    from sqlalchemy.exc import OperationalError

    from bot.storage.migrations.legacy import LEGACY

    db = sqlite_file(tmp_path / "half.db")
    migrate(db.conn, "core.teams", LEGACY["core.teams"][:2])
    db.execute("CREATE TABLE inbox (clash INTEGER)")  # core.inbox's first step will fail
    engine_db = open_db(tmp_path / "half.db")
    with pytest.raises(OperationalError):
        await upgrade(engine_db)
    await engine_db.close()
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "alembic_version" not in tables and "processed_deliveries" not in tables
    done = db.execute("SELECT domain, version FROM schema_migrations ORDER BY 1, 2").fetchall()
    assert [tuple(r) for r in done] == [("core.teams", 1), ("core.teams", 2)]
    db.close()
