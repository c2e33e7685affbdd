"""Daily tips over Slack, end to end: signed slash commands, a controllable clock, the fake
Slack Web API; exactly-once per day across a crash and restart, 429s, archived channels."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from app import SERVICES
from bot.audit import AuditLog
from bot.core.model import Place
from content.tips.store import SENT, TipStore
from tests.support import ready_db, stop_bot
from tests.tips_helpers import (
    checked,
    eventually,
    tip_id_of,
    tip_posts,
    tips_of,
)


@pytest.fixture
async def bot(boot):
    running = await boot()
    yield running
    await stop_bot(running)


def confirmations(fake_slack, channel: str) -> list[dict]:
    return [
        b
        for b in fake_slack.api_calls("chat.postMessage")
        if b.get("channel") == channel and not str(b.get("text", "")).startswith("Security tip")
    ]


def responses_with(fake_slack, words: str) -> list[dict]:
    return [r for r in fake_slack.responses() if words in str(r.get("text", ""))]


async def subscribe(bot, fake_slack, channel: str, args: str = "09:30 mon-fri") -> dict:
    before = len(confirmations(fake_slack, channel))
    await bot.slash("/tip", f"subscribe {args}".strip(), channel=channel, user="U1")
    found = await fake_slack.wait_for(
        lambda s: (
            confirmations(s, channel)[before:] if len(confirmations(s, channel)) > before else None
        )
    )
    return found[0]


async def test_subscribe_fire_rotate_and_unsubscribe_over_slack(bot, fake_slack, clock):
    confirm = await subscribe(bot, fake_slack, "C1")
    assert "09:30 Monday to Friday" in confirm["text"]
    assert "Next tip: Monday 23 March 2026 at 09:30 GMT" in confirm["text"]
    assert "/tip unsubscribe" in confirm["text"]

    await clock.advance(minutes=89)
    await checked(bot)
    assert tip_posts(fake_slack) == []

    await clock.advance(minutes=2)
    first = (await fake_slack.wait_for(lambda s: tip_posts(s, "C1")))[0]
    actions = [
        el["action_id"].split("#")[0]
        for blk in first["blocks"]
        if blk["type"] == "actions"
        for el in blk["elements"]
    ]
    assert actions == ["tip:vote", "tip:vote", "tip:quiz"]
    assert "Source: NCSC" in str(first["blocks"])

    # Tuesday: a different tip. Four more working days cover the 5-tip library exactly.
    seen = [tip_id_of(first)]
    for n in range(2, 6):
        await clock.advance(days=1)
        posts = await fake_slack.wait_for(lambda s, n=n: len(tip_posts(s, "C1")) >= n or None)
        seen.append(tip_id_of(tip_posts(fake_slack, "C1")[-1]))
        assert posts
    assert sorted(seen) == sorted(tips_of(bot).tip_ids())  # every tip once before a repeat

    # Saturday and Sunday: nothing.
    await clock.advance(days=2)
    await checked(bot)
    assert len(tip_posts(fake_slack, "C1")) == 5

    await bot.slash("/tip", "unsubscribe", channel="C1", user="U2")
    off = await fake_slack.wait_for(
        lambda s: [b for b in confirmations(s, "C1") if "no longer" in b.get("text", "")]
    )
    assert off
    await clock.advance(days=1)
    await checked(bot)
    assert len(tip_posts(fake_slack, "C1")) == 5
    ledger = await tips_of(bot).store.ledger.deliveries()
    assert [d.status for d in ledger] == [SENT] * 5
    assert len({d.local_date for d in ledger}) == 5


async def test_status_shows_next_local_time_and_tips_left(bot, fake_slack, clock):
    await subscribe(bot, fake_slack, "C1", "10:15 mon,wed,fri scotland")
    await bot.slash("/tip", "status", channel="C1", user="U3")
    status = (await fake_slack.wait_for(lambda s: responses_with(s, "Tips left")))[0]
    assert "Monday 23 March 2026 at 10:15 GMT" in status["text"]
    assert "Tips left in this cycle: 5 of 5" in status["text"]
    assert "Scotland" in status["text"]
    assert status["response_type"] == "ephemeral"

    await clock.advance(hours=2, minutes=16)
    await fake_slack.wait_for(lambda s: tip_posts(s, "C1"))
    await bot.slash("/tip", "status", channel="C1", user="U3")
    status = (await fake_slack.wait_for(lambda s: responses_with(s, "4 of 5")))[0]
    assert "Wednesday 25 March 2026 at 10:15 GMT" in status["text"]


async def test_bad_time_or_days_get_a_clear_error_with_an_example(bot, fake_slack):
    await bot.slash("/tip", "subscribe 25:00", channel="C1", user="U1")
    await bot.slash("/tip", "subscribe 09:30 funday", channel="C1", user="U1")
    errors = await fake_slack.wait_for(lambda s: len(responses_with(s, "For example")) >= 2 or None)
    texts = [r["text"] for r in responses_with(fake_slack, "For example")]
    assert any("isn't a real time" in t for t in texts)
    assert any("funday" in t for t in texts)
    assert all("/tip subscribe 08:45 mon-fri scotland" in t for t in texts)
    assert errors
    assert await tips_of(bot).store.subscriptions.all() == []


async def test_tip_now_is_private_with_buttons(bot, fake_slack):
    await bot.slash("/tip", "", channel="C1", user="U1")
    reply = (await fake_slack.wait_for(lambda s: responses_with(s, "Security tip")))[0]
    assert reply["response_type"] == "ephemeral"
    assert "Useful" in str(reply["blocks"])
    assert tip_posts(fake_slack) == []


async def test_crash_mid_fan_out_then_restart_has_no_duplicate_and_no_loss(boot, fake_slack, clock):
    """Eight channels, two sends at a time. Sends 1-3 complete; send 4 reaches Slack but
    the process dies before recording it; send 5 dies before reaching Slack; 6-8 are
    claimed but not started. After a restart on the same database: 6-8 are delivered,
    4 is found in the channel's history by its metadata and recorded, not sent again, and
    5, not there, is sent once (content/tips/doubt.py): every channel exactly once."""
    fake_slack.clock = lambda: clock.now().timestamp()  # ts on the bot's clock
    # A crash does not drain: SECBOT_TIP_DRAIN_SECONDS=0 stops without waiting.
    bot = await boot(SECBOT_TIP_CONCURRENCY="2", SECBOT_TIP_DRAIN_SECONDS="0")
    channels = [f"C{i}" for i in range(1, 9)]
    for ch in channels:
        await subscribe(bot, fake_slack, ch)

    services = bot.app[SERVICES]
    real = services.transports["slack"]

    class DiesMidway:
        platform = "slack"
        calls = 0

        async def post(self, place, msg, **kw):
            DiesMidway.calls += 1
            n = DiesMidway.calls
            if n >= 5:
                await asyncio.Event().wait()  # dies before the request leaves
            ref = await real.post(place, msg, **kw)
            if n == 4:
                await asyncio.Event().wait()  # dies after Slack has the message
            return ref

    services.transports["slack"] = DiesMidway()
    await clock.advance(hours=1, minutes=31)
    await fake_slack.wait_for(lambda s: len(tip_posts(s)) >= 4 or None)
    # Both workers are now stuck (send 4 after posting, send 5 before), so no more posts.
    await eventually(lambda: DiesMidway.calls >= 5)
    assert len(tip_posts(fake_slack)) == 4
    before = Counter(d.status for d in await tips_of(bot).store.ledger.deliveries())
    assert before == {SENT: 3, "sending": 2, "pending": 3}
    await stop_bot(bot)  # the "crash": the worker is cancelled mid fan-out

    await clock.advance(minutes=10)  # restart within the grace window
    bot2 = await boot(SECBOT_TIP_CONCURRENCY="2")
    try:
        await fake_slack.wait_for(lambda s: len(tip_posts(s)) >= 8 or None)

        async def all_sent() -> bool:
            return {d.status for d in await tips_of(bot2).store.ledger.deliveries()} == {SENT}

        await eventually(all_sent)
        await checked(bot2)
        per_channel = Counter(p["channel"] for p in tip_posts(fake_slack))
        assert per_channel == dict.fromkeys(channels, 1)  # none twice, none lost
        assert Counter(m["channel"] for m in fake_slack.posted() if m.get("metadata")) == (
            dict.fromkeys(channels, 1)
        )
        ledger = await tips_of(bot2).store.ledger.deliveries()
        assert len(ledger) == 8  # one row per channel for the day, never a second

        # Tomorrow every channel is served again, exactly once.
        await clock.advance(days=1)
        await fake_slack.wait_for(lambda s: len(tip_posts(s)) >= 16 or None)
        await checked(bot2)
        per_channel = Counter(p["channel"] for p in tip_posts(fake_slack))
        assert per_channel == dict.fromkeys(channels, 2)
    finally:
        await stop_bot(bot2)


async def test_graceful_stop_mid_fan_out_drains_so_nothing_is_lost(boot, fake_slack, clock, caplog):
    """A deploy or SIGTERM in the middle of a fan-out: the posts already on the wire finish
    and are recorded, nothing new starts, and the restart sends the rest. Nothing is
    left unknown, no channel is skipped and none gets two."""
    bot = await boot(SECBOT_TIP_CONCURRENCY="2", SECBOT_TIP_DRAIN_SECONDS="30")
    channels = [f"C{i}" for i in range(1, 7)]
    for ch in channels:
        await subscribe(bot, fake_slack, ch)

    services = bot.app[SERVICES]
    real = services.transports["slack"]
    release = asyncio.Event()
    started: list[str] = []

    class Slow:
        platform = "slack"

        async def post(self, place, msg, **kw):
            started.append(place.channel)
            await release.wait()  # on the wire until the test lets it finish
            return await real.post(place, msg, **kw)

    services.transports["slack"] = Slow()
    caplog.set_level(logging.INFO, logger="content.tips")
    await clock.advance(hours=1, minutes=31)
    await eventually(lambda: len(started) == 2)
    stopping = asyncio.ensure_future(stop_bot(bot))
    await eventually(lambda: tips_of(bot).stopping)
    await asyncio.sleep(0.1)  # the worker must idle while it drains, not spin
    release.set()  # the two in-flight posts complete during the drain
    await stopping
    passes = [r.getMessage() for r in caplog.records if "fan-out of" in r.getMessage()]
    assert passes == ["tips: fan-out of 6: 4 deferred, 2 sent"]
    assert sorted(p["channel"] for p in tip_posts(fake_slack)) == sorted(started)
    db = await ready_db(bot.settings.db_path)  # the app closed its own on the way out
    try:
        statuses = Counter(d.status for d in await TipStore(db).ledger.deliveries())
    finally:
        await db.close()
    assert statuses == {SENT: 2, "pending": 4}  # nothing "sending", so nothing unknown

    await clock.advance(minutes=5)
    bot2 = await boot()
    try:
        await fake_slack.wait_for(lambda s: len(tip_posts(s)) >= 6 or None)
        await checked(bot2)
        assert Counter(p["channel"] for p in tip_posts(fake_slack)) == dict.fromkeys(channels, 1)
        assert {d.status for d in await tips_of(bot2).store.ledger.deliveries()} == {SENT}
    finally:
        await stop_bot(bot2)


async def test_restart_after_the_grace_window_skips_and_logs(boot, fake_slack, clock, caplog):
    bot = await boot()
    await subscribe(bot, fake_slack, "C1")
    await subscribe(bot, fake_slack, "C2", "09:45")
    await stop_bot(bot)  # down before 09:30 ...

    await clock.set(datetime(2026, 3, 23, 13, 0, tzinfo=UTC))  # ... back at 13:00
    caplog.set_level(logging.WARNING, logger="content.tips")
    bot2 = await boot(SECBOT_TIP_GRACE_MINUTES="180")
    try:
        await checked(bot2)
        # 09:30 and 09:45 were over three hours ago: both skipped, each logged once.
        assert tip_posts(fake_slack) == []
        skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
        assert len(skipped) == 2 and all("2026-03-23" in m for m in skipped)
        # No message text is ever logged.
        assert not any("Security tip" in r.getMessage() for r in caplog.records)
        await bot2.slash("/tip", "status", channel="C1", user="U1")
        status = (await fake_slack.wait_for(lambda s: responses_with(s, "Next tip")))[0]
        assert "Tuesday 24 March 2026 at 09:30 GMT" in status["text"]
    finally:
        await stop_bot(bot2)


async def test_restart_within_the_grace_window_serves_the_missed_tip(boot, fake_slack, clock):
    bot = await boot()
    await subscribe(bot, fake_slack, "C1")
    await stop_bot(bot)
    await clock.set(datetime(2026, 3, 23, 11, 0, tzinfo=UTC))  # 90 minutes late
    bot2 = await boot()
    try:
        await fake_slack.wait_for(lambda s: tip_posts(s, "C1"))
        await checked(bot2)
        assert len(tip_posts(fake_slack, "C1")) == 1
    finally:
        await stop_bot(bot2)


async def test_a_429_on_a_tip_is_not_waited_out_inside_the_post(bot, fake_slack, clock):
    """A tip's post must finish inside its lease, so the client does not sleep out a 429
    (Retry-After may be long): it is a refusal, the tip waits, and goes once it is up."""
    await subscribe(bot, fake_slack, "C1")
    fake_slack.rate_limits["chat.postMessage"] = 1  # answered with Retry-After: 1
    await clock.advance(hours=1, minutes=31)

    async def sent() -> list:
        return [d for d in await tips_of(bot).store.ledger.deliveries() if d.status == SENT]

    async def waiting() -> bool:  # refused once, and back to wait
        statuses = [d.status for d in await tips_of(bot).store.ledger.deliveries()]
        return len(tip_posts(fake_slack, "C1")) == 1 and statuses == ["pending"]

    await eventually(waiting)
    assert not await sent()
    await clock.advance(seconds=1.1)
    await eventually(sent)
    assert len(tip_posts(fake_slack, "C1")) == 2  # the 429'd attempt and the retry


async def test_429_that_surfaces_pauses_the_workspace_until_retry_after(boot, fake_slack, clock):
    bot = await boot(SECBOT_TIP_CONCURRENCY="1")
    try:
        await subscribe(bot, fake_slack, "C1")
        await subscribe(bot, fake_slack, "C2")
        bot.app[SERVICES].transports["slack"].client.retry_handlers.clear()
        fake_slack.rate_limits["chat.postMessage"] = 1  # answered with Retry-After: 1
        await clock.advance(hours=1, minutes=31)
        await checked(bot)
        store = tips_of(bot).store
        assert [d.status for d in await store.ledger.deliveries()] == ["pending", "pending"]
        # One refused call; C2 waited for Retry-After instead of hitting the limit too.
        assert len(tip_posts(fake_slack)) == 1
        # Not a moment before Retry-After is up ...
        await clock.advance(seconds=0.9)
        await checked(bot)
        assert len(tip_posts(fake_slack)) == 1
        # ... and then both go.
        await clock.advance(seconds=0.2)

        async def all_sent() -> bool:
            return all(d.status == SENT for d in await store.ledger.deliveries())

        await eventually(all_sent)
        await checked(bot)
        assert Counter(p["channel"] for p in tip_posts(fake_slack)) == {"C1": 2, "C2": 1}
    finally:
        await stop_bot(bot)


async def test_rate_limits_never_use_up_a_channels_attempts(boot, fake_slack, clock):
    """Eight 429s in a row for one channel: each is waited out and the tip still arrives,
    once. Refusals are retried for as long as the grace window lasts."""
    bot = await boot()
    try:
        await subscribe(bot, fake_slack, "C1")
        bot.app[SERVICES].transports["slack"].client.retry_handlers.clear()
        fake_slack.rate_limits["chat.postMessage"] = 8
        await clock.advance(hours=1, minutes=31)
        store = tips_of(bot).store
        for _ in range(8):
            await checked(bot)
            await clock.advance(seconds=1.1)

        async def sent() -> bool:
            return (await store.ledger.deliveries())[0].status == SENT

        await eventually(sent)
        assert (await store.ledger.deliveries())[0].attempts == 9
        assert len(tip_posts(fake_slack, "C1")) == 9  # 8 refused, 1 shown
    finally:
        await stop_bot(bot)


async def test_server_errors_are_retried_with_backoff_until_the_grace_window_ends(
    boot, fake_slack, clock
):
    bot = await boot(SECBOT_TIP_GRACE_MINUTES="10")
    try:
        await subscribe(bot, fake_slack, "C1")
        fake_slack.channel_errors["C1"] = "internal_error"  # not permanent: try again
        await clock.advance(hours=1, minutes=31)
        store = tips_of(bot).store
        for _ in range(4):  # waits of about 30 s, 60 s, 120 s, 240 s
            await checked(bot)
            await clock.advance(minutes=4)
        await checked(bot)
        row = (await store.ledger.deliveries())[0]
        assert row.status == "missed"  # the next wait would end after 09:40
        assert 3 <= row.attempts <= 5
        assert (await store.subscriptions.get(1)).active  # the channel itself is fine
    finally:
        await stop_bot(bot)


@pytest.mark.parametrize("error", ["is_archived", "not_in_channel", "channel_not_found"])
async def test_gone_channel_is_marked_inactive_and_others_are_served(bot, fake_slack, clock, error):
    for ch in ("C1", "C9", "C3"):
        await subscribe(bot, fake_slack, ch)
    fake_slack.channel_errors["C9"] = error
    await clock.advance(hours=1, minutes=31)
    await fake_slack.wait_for(lambda s: len(tip_posts(s)) >= 3 or None)
    await checked(bot)
    store = tips_of(bot).store
    assert not (await store.subscriptions.get(2)).active
    assert (await store.subscriptions.get(2)).inactive_reason == f"gone: {error}"
    # The others were not held up: same pass, both sent.
    assert Counter(d.status for d in await store.ledger.deliveries()) == {SENT: 2, "gone": 1}
    await clock.advance(days=1)
    await fake_slack.wait_for(lambda s: len(tip_posts(s)) >= 5 or None)
    await checked(bot)
    counts = Counter(p["channel"] for p in tip_posts(fake_slack))
    assert counts == {"C1": 2, "C3": 2, "C9": 1}  # C9 tried once, then skipped
    statuses = Counter(d.status for d in await store.ledger.deliveries())
    assert statuses == {SENT: 4, "gone": 1}
    # Someone in the channel can see why, and how to turn it back on.
    await bot.slash("/tip", "status", channel="C9", user="U1")
    why = await fake_slack.wait_for(lambda s: responses_with(s, "could no longer post here"))
    assert "/tip subscribe" in why[0]["text"]


async def test_admin_send_now_counts_as_today_then_extra(bot, fake_slack, clock):
    await subscribe(bot, fake_slack, "C1")
    await bot.slash("/tip", "send-now", channel="C1", user="U1")
    refused = await fake_slack.wait_for(lambda s: responses_with(s, "Only secbot admins"))
    assert refused
    await bot.slash("/tip", "send-now", channel="C1", user="UADMIN")
    await fake_slack.wait_for(lambda s: responses_with(s, "counts as today's tip"))
    assert len(tip_posts(fake_slack, "C1")) == 1
    await clock.advance(hours=2)  # past 09:30: no second tip today
    await checked(bot)
    assert len(tip_posts(fake_slack, "C1")) == 1
    await bot.slash("/tip", "send-now", channel="C1", user="UADMIN")
    await fake_slack.wait_for(lambda s: responses_with(s, "Sent as an extra tip"))
    assert len(tip_posts(fake_slack, "C1")) == 2
    await clock.advance(days=1)  # Tuesday's scheduled tip still comes
    await fake_slack.wait_for(lambda s: len(tip_posts(s, "C1")) >= 3 or None)
    ids = [tip_id_of(p) for p in tip_posts(fake_slack, "C1")]
    assert len(set(ids)) == 3
    # An admin action each time, in the audit log (issue 18); the refusal is not.
    entries = await AuditLog(bot.app[SERVICES].db).all()
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("slack:UADMIN", "sent a channel's tip now", "tip subscription #1 (sent)")
    ] * 2


async def test_admin_list_and_non_admin_refused(bot, fake_slack):
    await subscribe(bot, fake_slack, "C1", "08:45 mon-fri scotland")
    await bot.slash("/tip", "list", channel="C1", user="U1")
    await fake_slack.wait_for(lambda s: responses_with(s, "Only secbot admins"))
    await bot.slash("/tip", "list", channel="C5", user="UADMIN")
    listed = (await fake_slack.wait_for(lambda s: responses_with(s, "active of")))[0]
    assert listed["text"].startswith("1 active of 1 subscription:\n")  # not "subscriptions"
    assert (
        "slack T111/C1: 08:45 Monday to Friday, skipping Scotland bank holidays" in (listed["text"])
    )


async def test_daily_tip_keeps_local_time_across_the_clock_change(boot, fake_slack, clock):
    await clock.set(datetime(2026, 3, 27, 12, 0, tzinfo=UTC))  # Friday, GMT
    bot = await boot()
    try:
        await subscribe(bot, fake_slack, "C1", "09:30 daily")
        await clock.set(datetime(2026, 3, 28, 9, 29, tzinfo=UTC))
        await checked(bot)
        assert tip_posts(fake_slack) == []
        await clock.set(datetime(2026, 3, 28, 9, 31, tzinfo=UTC))  # Saturday 09:31 GMT
        await fake_slack.wait_for(lambda s: tip_posts(s))
        await clock.set(datetime(2026, 3, 29, 8, 29, tzinfo=UTC))  # Sunday 09:29 BST
        await checked(bot)
        assert len(tip_posts(fake_slack)) == 1
        await clock.set(datetime(2026, 3, 29, 8, 31, tzinfo=UTC))  # Sunday 09:31 BST
        await fake_slack.wait_for(lambda s: len(tip_posts(s)) >= 2 or None)
        ledger = await tips_of(bot).store.ledger.deliveries()
        assert [str(d.local_date) for d in ledger] == ["2026-03-28", "2026-03-29"]
        assert ledger[1].due_at == datetime(2026, 3, 29, 8, 30, tzinfo=UTC)
        await bot.slash("/tip", "status", channel="C1", user="U1")
        status = (await fake_slack.wait_for(lambda s: responses_with(s, "Next tip")))[0]
        assert "Monday 30 March 2026 at 09:30 BST" in status["text"]
    finally:
        await stop_bot(bot)


def test_grace_default_is_three_hours():
    from bot.settings import Settings

    assert timedelta(minutes=Settings().tip_grace_minutes) == timedelta(hours=3)


async def test_tips_added_later_join_the_cycle_and_retired_ones_drop_out(bot, fake_slack, clock):
    from content.library.loader import ContentLibrary
    from tests.tips_helpers import make_tip

    await subscribe(bot, fake_slack, "C1")
    await clock.advance(hours=1, minutes=31)
    await fake_slack.wait_for(lambda s: tip_posts(s, "C1"))
    await clock.advance(days=1)
    await fake_slack.wait_for(lambda s: len(tip_posts(s, "C1")) >= 2 or None)
    served = {tip_id_of(p) for p in tip_posts(fake_slack, "C1")}

    services = bot.app[SERVICES]
    old = services.content
    retired = sorted(set(old.tips) - served)[0]
    tips = {k: v for k, v in old.tips.items() if k != retired}
    for n in (6, 7):
        tips[f"tip-t{n:02d}"] = make_tip(n, "2fa")
    services.content = ContentLibrary(old.quiz_items, tips)  # as after a content reload

    await bot.slash("/tip", "status", channel="C1", user="U1")
    status = (await fake_slack.wait_for(lambda s: responses_with(s, "Tips left")))[0]
    assert "Tips left in this cycle: 4 of 6" in status["text"]
    for n in range(3, 7):  # Wednesday to Friday, then Monday
        await clock.advance(days=3 if n == 6 else 1)
        await fake_slack.wait_for(lambda s, n=n: len(tip_posts(s, "C1")) >= n or None)
    ids = [tip_id_of(p) for p in tip_posts(fake_slack, "C1")]
    assert len(set(ids)) == 6 and retired not in ids
    assert {"tip-t06", "tip-t07"} <= set(ids)


async def test_bank_holidays_are_skipped_per_nation_end_to_end(boot, fake_slack, clock):
    """Easter 2026: Good Friday (3 April) is a bank holiday everywhere in the UK, Easter
    Monday (6 April) in England and Wales and Northern Ireland but not in Scotland."""
    await clock.set(datetime(2026, 4, 2, 7, 0, tzinfo=UTC))  # Thursday 08:00 BST
    bot = await boot()
    try:
        await subscribe(bot, fake_slack, "CENG", "09:30 mon-fri")
        await subscribe(bot, fake_slack, "CSCT", "09:30 mon-fri scotland")
        await subscribe(bot, fake_slack, "CNIR", "09:30 mon-fri northern-ireland")
        for day in range(2, 8):  # Thursday 2 to Tuesday 7 April, just after 09:30 BST
            await clock.set(datetime(2026, 4, day, 8, 31, tzinfo=UTC))
            await checked(bot)
        store = tips_of(bot).store
        days = {
            ch: sorted(
                str(d.local_date)
                for d in await store.ledger.deliveries(
                    (await store.subscriptions.find(Place("slack", "T111", ch))).id
                )
            )
            for ch in ("CENG", "CSCT", "CNIR")
        }
        assert days["CENG"] == ["2026-04-02", "2026-04-07"]
        assert days["CNIR"] == ["2026-04-02", "2026-04-07"]
        assert days["CSCT"] == ["2026-04-02", "2026-04-06", "2026-04-07"]
        assert Counter(p["channel"] for p in tip_posts(fake_slack)) == {
            "CENG": 2,
            "CNIR": 2,
            "CSCT": 3,
        }
    finally:
        await stop_bot(bot)


async def test_status_skips_the_bank_holiday_in_the_next_tip(boot, fake_slack, clock):
    await clock.set(datetime(2026, 4, 2, 12, 0, tzinfo=UTC))  # Thursday 13:00 BST
    bot = await boot()
    try:
        eng = await subscribe(bot, fake_slack, "CENG")
        sct = await subscribe(bot, fake_slack, "CSCT", "09:30 mon-fri scotland")
        # Friday is Good Friday for both; Monday is Easter Monday outside Scotland.
        assert "Next tip: Tuesday 7 April 2026 at 09:30 BST" in eng["text"]
        assert "Next tip: Monday 6 April 2026 at 09:30 BST" in sct["text"]
    finally:
        await stop_bot(bot)


async def test_daily_tip_keeps_local_time_across_the_autumn_change(boot, fake_slack, clock):
    await clock.set(datetime(2026, 10, 23, 12, 0, tzinfo=UTC))  # Friday, BST
    bot = await boot()
    try:
        await subscribe(bot, fake_slack, "C1", "09:30 daily")
        await clock.set(datetime(2026, 10, 24, 8, 31, tzinfo=UTC))  # Saturday 09:31 BST
        await fake_slack.wait_for(lambda s: tip_posts(s))
        await clock.set(datetime(2026, 10, 25, 9, 29, tzinfo=UTC))  # Sunday 09:29 GMT
        await checked(bot)
        assert len(tip_posts(fake_slack)) == 1  # 08:30 UTC is 08:30 GMT now: not yet
        await clock.set(datetime(2026, 10, 25, 9, 31, tzinfo=UTC))  # Sunday 09:31 GMT
        await fake_slack.wait_for(lambda s: len(tip_posts(s)) >= 2 or None)
        await checked(bot)
        ledger = await tips_of(bot).store.ledger.deliveries()
        assert [str(d.local_date) for d in ledger] == ["2026-10-24", "2026-10-25"]
        assert [d.due_at.hour for d in ledger] == [8, 9]  # 09:30 BST, then 09:30 GMT
        await bot.slash("/tip", "status", channel="C1", user="U1")
        status = (await fake_slack.wait_for(lambda s: responses_with(s, "Next tip")))[0]
        assert "Monday 26 October 2026 at 09:30 GMT" in status["text"]
    finally:
        await stop_bot(bot)


async def test_restart_does_not_post_a_slot_from_before_the_subscription(boot, fake_slack, clock):
    """Subscribing at 10:00 to a 09:30 tip means tomorrow; a restart at 10:05 (inside the
    grace window for 09:30) must not post today's 09:30 tip after all."""
    await clock.set(datetime(2026, 3, 23, 10, 0, tzinfo=UTC))
    bot = await boot()
    confirm = await subscribe(bot, fake_slack, "C1")
    assert "Next tip: Tuesday 24 March 2026 at 09:30 GMT" in confirm["text"]
    await stop_bot(bot)
    await clock.advance(minutes=5)
    bot2 = await boot()
    try:
        await checked(bot2)
        assert tip_posts(fake_slack) == []
        assert (await tips_of(bot2).store.subscriptions.get(1)).next_local_date == date(2026, 3, 24)
    finally:
        await stop_bot(bot2)


@pytest.mark.parametrize(
    ("command", "why", "instead"),
    [
        ("list", "because it shows every channel's subscription", "type “/tip status”"),
        ("feedback", "because it shows the votes from every channel", "press Useful"),
        ("send-now", "because it posts an extra tip to everyone", "type “/tip status”"),
    ],
)
async def test_admin_commands_refused_with_the_reason_and_what_to_do(
    bot, fake_slack, command, why, instead
):
    await bot.slash("/tip", command, channel="C1", user="U1")
    reply = (await fake_slack.wait_for(lambda s: responses_with(s, "Only secbot admins")))[0]
    assert reply["response_type"] == "ephemeral"
    assert f"Only secbot admins can use “/tip {command}”" in reply["text"]
    assert why in reply["text"] and instead in reply["text"]


async def test_unknown_subcommand_says_so_and_lists_the_commands(bot, fake_slack):
    await bot.slash("/tip", "subscibe 09:30", channel="C1", user="U1")
    reply = (await fake_slack.wait_for(lambda s: responses_with(s, "isn't a tip command")))[0]
    assert "“/tip subscibe” isn't a tip command" in reply["text"]
    assert "/tip subscribe [HH:MM] [days] [nation]" in reply["text"]
    assert "Example: /tip subscribe 08:45 mon-fri scotland" in str(reply["blocks"])
    assert await tips_of(bot).store.subscriptions.all() == []


async def test_send_now_cut_off_mid_post_says_it_will_check_then_it_is_found(
    bot, fake_slack, clock
):
    """Slack takes the tip and then answers 500: the admin hears plainly that secbot can't
    tell yet and will check; the tip is later found in the channel, never posted twice."""
    fake_slack.clock = lambda: clock.now().timestamp()
    await subscribe(bot, fake_slack, "C1")
    fake_slack.fail_after["chat.postMessage"] = 1
    await bot.slash("/tip", "send-now", channel="C1", user="UADMIN")
    (said,) = await fake_slack.wait_for(lambda s: responses_with(s, "can't tell yet"))
    assert "send it only if it isn't there" in said["text"]
    await clock.advance(seconds=20)  # the row's extra lease runs out: it is looked for

    async def recorded() -> bool:
        return [d.status for d in await tips_of(bot).store.ledger.deliveries()] == [SENT]

    await eventually(recorded)
    assert len(tip_posts(fake_slack, "C1")) == 1
