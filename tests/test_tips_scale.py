"""Daily tips at scale: channels seeded straight into the database are all served once at
start-up, every hot query is served by an index, `/tip list` reads one page, and the
pacing that keeps a fan-out inside Slack's and Teams' limits."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.core.model import Place
from bot.storage.sql import execute
from content.tips.pacing import Pacer
from content.tips.schedule import EVERY_DAY, Schedule
from content.tips.scheduler import PAGE
from content.tips.store import SENT, Claim, TipStore
from content.tips.store.tables import tip_deliveries
from tests.support import query_plan, ready_db, stop_bot, trace_sql
from tests.tips_helpers import MONDAY_0800, checked, tip_posts, tips_of


async def seed(db_path: str, channels: list[str], at: time, now: datetime) -> None:
    """Subscriptions written straight into the database, as a migration or an import
    would: no next due time yet, so the worker's start-up must work it out."""
    db = await ready_db(db_path)
    try:
        store = TipStore(db)
        for ch in channels:
            await store.subscriptions.subscribe(
                Place("slack", "T111", ch), Schedule(at, EVERY_DAY), "seed", now
            )
    finally:
        await db.close()


async def test_seeded_channels_due_a_minute_ago_are_all_served_once_at_start_up(
    slack_env, fake_slack, boot
):
    """More channels than one claim page, seeded before the app starts with a daily time a
    minute ago, all get today's tip exactly once; channels whose time today was already
    beyond the grace window start tomorrow instead of getting a tip hours late."""
    due = [f"C{i:04d}" for i in range(PAGE + 100)]
    stale = [f"S{i:03d}" for i in range(20)]
    await seed(slack_env["SECBOT_DB"], due, time(7, 59), MONDAY_0800)
    await seed(slack_env["SECBOT_DB"], stale, time(4, 0), MONDAY_0800)  # four hours ago
    bot = await boot()
    try:
        await fake_slack.wait_for(lambda s: len(tip_posts(s)) >= len(due) or None, timeout=60)
        await checked(bot)
        per_channel = Counter(p["channel"] for p in tip_posts(fake_slack))
        assert per_channel == dict.fromkeys(due, 1)
        ledger = await tips_of(bot).store.ledger.deliveries()
        assert len(ledger) == len(due)
        assert {d.status for d in ledger} == {SENT}
        assert {d.local_date for d in ledger} == {date(2026, 3, 23)}
        # Everyone's next tip is tomorrow's: 04:00 for the late ones, 07:59 for the rest.
        store = tips_of(bot).store
        assert await store.subscriptions.earliest_due() == datetime(2026, 3, 24, 4, 0, tzinfo=UTC)
        nexts = Counter(str(s.next_due) for s in await store.subscriptions.active())
        assert nexts == {
            "2026-03-24 04:00:00+00:00": len(stale),
            "2026-03-24 07:59:00+00:00": len(due),
        }
    finally:
        await stop_bot(bot)


# --- indexes -------------------------------------------------------------------------------

# Admin-only reports that read everything once by design (as SQLAlchemy writes them).
WHOLE_TABLE_OK = (
    "count(*) AS count_1 FROM tip_subscriptions",
    "ORDER BY tip_subscriptions.active DESC",
    "GROUP BY tip_votes.tip_id",
)


@pytest.mark.sqlite_only("reads SQLite's query plans")
async def test_every_fan_out_query_is_served_by_an_index():
    """No query a fan-out runs per channel (or per page) scans a table or sorts it: with
    10,000 channels and a year of ledger rows, each stays a b-tree lookup."""
    db = await ready_db(":memory:")
    store = TipStore(db)
    now = MONDAY_0800
    statements: list[str] = []
    await trace_sql(db, statements.append)
    sub_id = await store.subscriptions.subscribe(Place("slack", "T", "C1"), Schedule(), "u", now)
    await store.subscriptions.set_next(sub_id, date(2026, 3, 23), now)
    await store.subscriptions.due(now, limit=PAGE)
    await store.subscriptions.active(after_id=0, limit=PAGE)
    await store.subscriptions.earliest_due()
    await store.subscriptions.find(Place("slack", "T", "C1"))
    await store.subscriptions.get(sub_id)
    await store.subscriptions.is_active(sub_id)
    await store.ledger.served(sub_id, 1)
    await store.ledger.has_delivery(sub_id, date(2026, 3, 23))
    row = await store.ledger.claim(
        sub_id, kind="scheduled", tip_id="t1", cycle=1, due=now, now=now, local_date=date.today()
    )
    assert row is not None
    await store.ledger.ready(now)
    await store.ledger.earliest_retry(now)
    await store.leases.lease_ends(now)
    await store.ledger.mark_sending(row, now)
    await store.ledger.interrupted()
    claim = Claim("me", now + timedelta(seconds=15))
    await store.leases.claim_page(now, claim, 1000)
    await store.leases.renew(claim)
    await store.leases.release("me")
    taken = await store.leases.take_in_doubt(now, claim, 64)
    await store.leases.settle_in_doubt(row, "me", "unknown", now, error="x")
    await store.leases.leave_in_doubt(row, now, "timed out")
    assert [d.row.id for d in taken] == [row]  # sending with no lease: in doubt at once
    await store.ledger.mark_sent(row, "1", now)
    await store.ledger.mark_sending_many([row], now, Claim("me", now + timedelta(seconds=15)))
    await store.ledger.mark_sent_many([(row, "1")], now)
    await store.ledger.retry_later(row, now + timedelta(minutes=1), "x", now)
    await store.ledger.finish(row, "missed", "x", now)
    await store.subscriptions.deactivate(sub_id, "gone", now)
    await store.subscriptions.counts()
    await store.subscriptions.all(limit=50)
    await store.votes.feedback()
    await trace_sql(db, None)

    checked_any = 0
    for sql in statements:
        if not re.match(r"\s*(SELECT|UPDATE|DELETE)", sql, re.I):
            continue
        plan = await query_plan(db, sql)
        if any(ok in " ".join(sql.split()) for ok in WHOLE_TABLE_OK):
            continue
        checked_any += 1
        assert not [p for p in plan if p.startswith("SCAN ")], (sql, plan)
        assert not [p for p in plan if "TEMP B-TREE" in p], (sql, plan)
    assert checked_any >= 21


async def test_admin_list_reads_one_page_of_thousands(slack_env, fake_slack, boot):
    await seed(slack_env["SECBOT_DB"], [f"C{i:04d}" for i in range(1200)], time(9, 30), MONDAY_0800)
    bot = await boot(paced=True)
    try:
        await bot.slash("/tip", "list", channel="C1", user="UADMIN")
        listed = await fake_slack.wait_for(
            lambda s: [r for r in s.responses() if "active of" in r.get("text", "")]
        )
        assert listed[0]["text"].startswith("1200 active of 1200 subscriptions:")
        sections = [b["text"]["text"] for b in listed[0]["blocks"] if b["type"] == "section"]
        shown = [line for sec in sections[1:] for line in sec.split("\n")]
        assert len(shown) == 50 and all(len(sec) < 3000 for sec in sections)  # none cut off
        assert shown[0].startswith("slack T111/C0000: 09:30 every day")
        assert "…and 1150 more." in str(listed[0]["blocks"][-1])
    finally:
        await stop_bot(bot)


# --- pacing ----------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(t: FakeTime) -> Pacer:
    return Pacer(monotonic=t.monotonic, sleep=t.sleep)


def test_slack_posts_to_one_channel_are_a_second_apart_others_go_at_once():
    t = FakeTime()
    p = pacer(t)
    c1, c2 = Place("slack", "T1", "C1"), Place("slack", "T1", "C2")
    assert p.reserve(c1) == 0
    assert p.reserve(c2) == 0  # another channel: no wait (workspace limit = Retry-After)
    assert p.reserve(c1) == pytest.approx(1.0)
    assert p.reserve(c1) == pytest.approx(2.0)
    t.now += 5
    assert p.reserve(c1) == 0


def test_teams_paces_each_conversation_and_each_tenant():
    t = FakeTime()
    p = pacer(t)
    conv = Place("teams", "tenant-1", "19:a@thread.tacv2")
    assert p.reserve(conv) == 0
    assert p.reserve(conv) == pytest.approx(2.0)  # 1,800 an hour and 8 in 2 s, per conversation
    # 80 other conversations in the same tenant: at most 40 a second between them.
    waits = [p.reserve(Place("teams", "tenant-1", f"19:c{i}@thread.tacv2")) for i in range(80)]
    assert waits[-1] >= 79 / 40 + 1 / 40 - 1e-9
    assert max(b - a for a, b in zip(waits, waits[1:], strict=False)) == pytest.approx(1 / 40)
    # Another tenant has its own budget.
    assert p.reserve(Place("teams", "tenant-2", "19:z@thread.tacv2")) == 0


async def test_pacer_waits_and_forgets_old_slots():
    t = FakeTime()
    p = pacer(t)
    c1 = Place("slack", "T1", "C1")
    await p.wait(c1)
    await p.wait(c1)
    assert t.slept == [pytest.approx(1.0)]
    for i in range(3000):
        p.reserve(Place("slack", "T1", f"X{i}"))
        t.now += 0.01
    assert len(p) < 1200  # pruned as it goes: only recent conversations are kept


def test_web_chat_is_not_paced():
    t = FakeTime()
    p = pacer(t)
    place = Place("web", "local", "general")
    assert [p.reserve(place) for _ in range(5)] == [0] * 5


@pytest.mark.parametrize("n", [1, 3, 64, 65, 130])
async def test_a_flush_of_sent_posts_records_each_its_own_message(n):
    """``mark_sent_many`` writes a flush's rows in a statement per 64 (padded to a few
    cached shapes): every row gets its own message id, and no other row is touched."""
    db = await ready_db(":memory:")
    store = TipStore(db)
    now = MONDAY_0800
    rows = []
    async with store.batch():
        for i in range(n + 1):
            place = Place("slack", "T", f"C{i}")
            sub_id = await store.subscriptions.subscribe(place, Schedule(), "u", now)
            rows.append(
                await store.ledger.claim(
                    sub_id, kind="scheduled", tip_id="t1", cycle=1, due=now, now=now,
                    local_date=date(2026, 3, 23),
                )
            )  # fmt: skip
    *sent, untouched = rows
    claim = Claim("me", now + timedelta(seconds=15))
    assert await store.ledger.mark_sending_many(rows, now, claim) == set(rows)
    await store.ledger.mark_sent_many([(r, f"ts-{r}") for r in sent], now)
    statuses = {d.id: d.status for d in await store.ledger.deliveries()}
    assert statuses == {**{r: SENT for r in sent}, untouched: "sending"}
    t = tip_deliveries.c
    found = dict((await execute(db, select(t.id, t.message_id))).all())
    assert found == {**{r: f"ts-{r}" for r in sent}, untouched: None}
    await db.close()
