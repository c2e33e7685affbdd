"""Retention (issue 18 item 5): the SECBOT_KEEP_* settings, and the daily prune that runs
on one instance, a batch at a time, driven by a FakeClock over the real app."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app import SERVICES
from bot.core.clock import FakeClock
from bot.storage.deliveries import DeliveryStore, processed_deliveries
from bot.storage.retention import JOB, Pruner, Retention, retention_runs, seconds_to_next_run
from bot.storage.sql import execute, metadata
from incidents.store.retention import incident_tables
from tests.incident_support import buttons as incident_buttons
from tests.quiz_support import LIBRARY, latest_post_id, post_choice
from tests.support import eventually, run_app, start_bot, stop_bot

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday


def test_a_retention_setting_that_is_not_a_duration_stops_start_up(tmp_path):
    proc = run_app({"SECBOT_KEEP_CLOSED_INCIDENTS": "two years"}, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "secbot can't start: SECBOT_KEEP_CLOSED_INCIDENTS must be a duration such as 30d or"
        " 12h (a number and one of s, m, h, d or w), not 'two years'"
    )


def test_the_next_run_is_just_after_midnight_utc():
    assert seconds_to_next_run(START) == timedelta(hours=14, minutes=5).total_seconds()
    midnight = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    assert seconds_to_next_run(midnight) == 5 * 60


# --- over the real app ------------------------------------------------------------------


async def say(bot, user: str, text: str | None = None, action: dict | None = None) -> dict:
    """Send in the web chat; the newest message this user can see."""
    status, body = await bot.web_send(user=user, text=text, action=action)
    assert status == 200 and body["ok"], body
    return (await bot.web_messages(user=user))[-1]


def buttons(message: dict, action_id: str) -> list[str]:
    return incident_buttons(message.get("blocks", []), action_id)


async def report_incident(bot, user: str) -> str:
    """``compromised``: the new incident's id."""
    card = await say(bot, user, "compromised")
    assert buttons(card, "incident:triage"), card
    return buttons(card, "incident:triage")[0].split("|")[0]


async def close_incident(bot, user: str, incident_id: str) -> None:
    reply = await say(bot, user, f"compromised close {incident_id} A test that went well")
    confirm = [v for v in buttons(reply, "incident:close") if v.endswith("confirm")]
    if confirm:
        action = {"action_id": "incident:close", "value": confirm[0],
                  "message_id": str(reply["id"])}  # fmt: skip
        await say(bot, user, action=action)
    store = bot.app[SERVICES].find_feature(_desk_class()).store

    async def closed() -> bool:
        inc = await store.get(incident_id)
        return inc is not None and inc.status == "closed"

    await eventually(closed)


def _desk_class():
    from incidents.desk import IncidentDesk

    return IncidentDesk


async def rows_of(db, incident_id: str) -> int:
    """How many rows of every incident table (and the incident's own) are this one's."""
    from incidents.store.tables import incidents

    count = (await execute(db, select(func.count()).where(incidents.c.id == incident_id))).scalar()
    for table in incident_tables():
        where = table.c.incident_id == incident_id
        count += (await execute(db, select(func.count()).select_from(table).where(where))).scalar()
    return int(count or 0)


async def finished_run(db, day) -> bool:
    r = retention_runs.c
    query = select(r.finished_at).where((r.job == JOB) & (r.day == day))
    return (await execute(db, query)).scalar() is not None


async def test_the_daily_prune_deletes_what_has_passed_its_period(slack_env):
    clock = FakeClock(START)
    env = {
        **slack_env,
        "SECBOT_KEEP_QUIZ_ANSWERS": "30d",
        "SECBOT_KEEP_CLOSED_INCIDENTS": "90d",
    }
    bot = await start_bot(env, clock=clock, content=LIBRARY)
    db = bot.app[SERVICES].db
    try:
        await eventually(lambda: finished_run(db, START.date()))  # the run at start-up
        # One quiz answer, one incident closed today and one left open.
        question = await say(bot, "web-user-1", "quiz")
        choice = await post_choice(bot, await latest_post_id(bot), right=True)
        await say(bot, "web-user-2", action={"action_id": "quiz:answer", "value": choice,
                                            "message_id": str(question["id"])})  # fmt: skip
        stats = await say(bot, "web-user-2", "quiz stats")
        assert "You've answered 1 question and got 1 right" in stats["text"], stats["text"]
        closed = await report_incident(bot, "web-user-3")
        kept_open = await report_incident(bot, "web-user-3")
        await close_incident(bot, "web-user-3", closed)
        assert await rows_of(db, closed) > 1  # the incident and its timeline at least

        # 31 days on: the answer has gone; the closed incident is kept (90 days).
        await clock.advance(days=31)
        await eventually(lambda: finished_run(db, (START + timedelta(days=31)).date()))
        stats = await say(bot, "web-user-2", "quiz stats")
        assert "You've answered" not in stats["text"], stats["text"]
        report = await say(bot, "web-user-3", f"compromised report {closed}")
        assert closed in report["text"] and report["attachment"], report

        # 91 days after it closed: deleted whole, every row in every table; the open one
        # is untouched.
        await clock.advance(days=60)
        await eventually(lambda: finished_run(db, (START + timedelta(days=91)).date()))
        assert await rows_of(db, closed) == 0
        assert await rows_of(db, kept_open) > 1
        gone = await say(bot, "web-user-3", f"compromised report {closed}")
        missing = await say(bot, "web-user-3", "compromised report SEC-2020-0999")
        assert gone["text"] == missing["text"].replace("SEC-2020-0999", closed), gone
        report = await say(bot, "web-user-3", f"compromised report {kept_open}")
        assert kept_open in report["text"] and report["attachment"], report
    finally:
        await stop_bot(bot)


async def test_two_instances_prune_once_a_day(tmp_path):
    """Two apps on one database and one clock: each day, one of them prunes."""
    clock = FakeClock(START)
    env = {"SECBOT_DB": str(tmp_path / "two.db")}
    first = await start_bot(env, clock=clock, features=[], content=False)
    second = await start_bot(env, clock=clock, features=[], content=False)
    try:
        db = first.app[SERVICES].db
        ours = {b.app[SERVICES].feature(Retention).instance for b in (first, second)}
        for day in range(3):
            today = (START + timedelta(days=day)).date()
            await eventually(lambda: finished_run(db, today))  # noqa: B023
            r = retention_runs.c
            rows = (await execute(db, select(r.claimed_by).where(r.day == today))).all()
            assert len(rows) == 1 and rows[0].claimed_by in ours
            # Whichever lost the claim finds the day taken.
            for b in (first, second):
                retention = b.app[SERVICES].feature(Retention)
                if retention.instance != rows[0].claimed_by:
                    assert await retention.run() is None
            await clock.advance(days=1)
    finally:
        await stop_bot(second)
        await stop_bot(first)


async def test_a_claim_left_unfinished_is_taken_over_after_an_hour(tmp_path):
    clock = FakeClock(START)
    bot = await start_bot({"SECBOT_DB": str(tmp_path / "s.db")}, clock=clock, features=[],
                          content=False)  # fmt: skip
    try:
        db = bot.app[SERVICES].db
        tomorrow = START + timedelta(days=1)
        died, other = Retention(db, clock), Retention(db, clock)
        assert await died.claim(tomorrow.date(), tomorrow)  # and then its process died
        assert not await other.claim(tomorrow.date(), tomorrow + timedelta(minutes=30))
        assert await died.claim(tomorrow.date(), tomorrow + timedelta(minutes=31))  # a retry
        assert await other.claim(tomorrow.date(), tomorrow + timedelta(hours=2))
    finally:
        await stop_bot(bot)


async def test_pruning_goes_in_batches_letting_other_work_run_between(tmp_path):
    clock = FakeClock(START)
    bot = await start_bot({"SECBOT_DB": str(tmp_path / "b.db")}, clock=clock, features=[],
                          content=False)  # fmt: skip
    try:
        db = bot.app[SERVICES].db
        store = DeliveryStore(db)
        await eventually(lambda: finished_run(db, START.date()))
        for n in range(250):
            await store.claim(f"slack:old:{n}", START - timedelta(days=8))
        await store.claim("slack:new", START)
        happened: list[str] = []
        old = processed_deliveries.c.seen_at < START - timedelta(days=7)

        async def batch(before: datetime, limit: int) -> int:
            from bot.storage.retention import delete_some

            happened.append("batch")
            return await delete_some(db, processed_deliveries, old, limit)

        async def other_work() -> None:
            while True:
                happened.append("other")
                await asyncio.sleep(0)

        retention = Retention(db, clock, batch=100, job="batches")  # not the app's own run
        retention.add(Pruner("delivery ids", timedelta(days=7), batch))
        ticking = asyncio.create_task(other_work())
        try:
            removed = await retention.run()
        finally:
            ticking.cancel()
        assert removed == {"delivery ids": 250}
        batches = [i for i, what in enumerate(happened) if what == "batch"]
        assert len(batches) == 4  # 100, 100, 50, and one that finds none left
        assert all("other" in happened[a:b] for a, b in zip(batches, batches[1:], strict=False))
        remaining = await execute(db, select(func.count()).select_from(processed_deliveries))
        assert remaining.scalar() == 1
    finally:
        await stop_bot(bot)


def test_every_table_with_an_incident_id_goes_with_its_incident():
    """A table added later with an ``incident_id`` column is deleted with the incident
    unless it says it keeps rows by a rule of its own."""
    import incidents.feature  # noqa: F401  (every incident table declared)

    holding = {t.name for t in metadata.sorted_tables if "incident_id" in t.c}
    covered = {t.name for t in incident_tables()}
    own = {t.name for t in metadata.sorted_tables if t.info.get("retention") == "own"}
    assert holding - {"incidents"} - own == covered
    assert {"incident_events", "incident_steps", "paging_outbox", "incident_evidence"} <= covered


async def test_old_paging_callbacks_go_unless_their_incident_is_open(slack_env):
    from incidents.paging.webhooks.store import WebhookEvents

    clock = FakeClock(START)
    bot = await start_bot({**slack_env, "SECBOT_KEEP_WEBHOOK_EVENTS": "30d"}, clock=clock,
                          content=LIBRARY)  # fmt: skip
    db = bot.app[SERVICES].db
    try:
        await eventually(lambda: finished_run(db, START.date()))
        open_one = await report_incident(bot, "web-user-3")
        closed_one = await report_incident(bot, "web-user-3")
        await close_incident(bot, "web-user-3", closed_one)
        events = WebhookEvents(db)
        old = START - timedelta(days=40)
        for remote, ours in (("P-OPEN", open_one), ("P-CLOSED", closed_one), ("P-NONE", None)):
            assert await events.claim("pagerduty", f"e-{remote}", "incident.acknowledged",
                                      remote, old)  # fmt: skip
            await events.finish("pagerduty", f"e-{remote}", ours, "applied" if ours else "ignored")
        assert await events.claim("pagerduty", "e-new", "incident.acknowledged", "P-NEW", START)
        await events.finish("pagerduty", "e-new", closed_one, "applied")

        await clock.advance(days=1)
        await eventually(lambda: finished_run(db, (START + timedelta(days=1)).date()))
        assert await events.incident_for("pagerduty", "P-OPEN") == open_one  # still open
        assert await events.incident_for("pagerduty", "P-CLOSED") is None  # 40 days old
        assert await events.incident_for("pagerduty", "P-NEW") == closed_one  # a day old
        # The unmatched one went too: a replay of it is handled as new.
        assert await events.claim("pagerduty", "e-P-NONE", "incident.acknowledged", "P-NONE",
                                  clock.now())  # fmt: skip
    finally:
        await stop_bot(bot)
