"""A tip caught mid-post (its instance died, or its post timed out) is settled by asking
the platform, over HTTP against the fake Slack and the fake Bot Connector
(``content/tips/doubt.py``): on Slack, a post that arrived is recorded sent and not
posted again, one that never arrived is posted exactly once; where the platform can't
tell (Teams, a Slack workspace without ``channels:history``) the row is ``unknown`` and
never re-sent. Runs on SQLite and, in the suite's PostgreSQL run, on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import NamedTuple

import pytest
from sqlalchemy import select

from app import SERVICES
from bot.storage.sql import execute
from content.tips.doubt import tip_key
from content.tips.store import SENDING, SENT, UNKNOWN
from content.tips.store.tables import tip_deliveries, tip_subscriptions
from tests.support import stop_bot
from tests.tips_helpers import checked, eventually

TEAMS_CHANNEL = "19:chan@thread.tacv2"
# Every bot scope the app asks for except the two that read a channel's history.
WITHOUT_HISTORY = {
    "chat:write", "chat:write.public", "users:read", "groups:write", "files:write",
    "files:read", "commands", "app_mentions:read", "im:history",
}  # fmt: skip


class Row(NamedTuple):
    id: int
    status: str
    message_id: str | None
    error: str | None


async def ledger(bot) -> dict[str, Row]:
    """channel -> its (one) ledger row."""
    d, s = tip_deliveries.c, tip_subscriptions.c
    stmt = select(s.channel, d.id, d.status, d.message_id, d.error).join(
        tip_subscriptions, s.id == d.subscription_id
    )
    rows = (await execute(bot.app[SERVICES].db, stmt)).all()
    return {r[0]: Row(*r[1:]) for r in rows}


def taken_tips(fake_slack, channel: str | None = None) -> list[dict]:
    """The tips Slack took (what people see in the channel), not the calls that arrived."""
    return [
        m
        for m in fake_slack.posted(channel)
        if str(m.get("text") or "").startswith("Security tip:")
    ]


def key_of(message: dict) -> str:
    meta = message["metadata"]
    assert meta["event_type"] == "secbot_post"
    return meta["event_payload"]["key"]


async def subscribe_slack(bot, fake_slack, channel: str) -> None:
    await bot.slash("/tip", "subscribe 09:30 mon-fri", channel=channel, user="U1")
    await fake_slack.wait_for(lambda s: s.posted(channel))  # the confirmation


def dying(real, reached: set[str]):
    """The transport of a process that dies during its posts: to a channel in ``reached``
    after Slack has taken the message (the outcome is never recorded), to any other
    before the request leaves."""

    class Dying:
        platform = real.platform

        def __getattr__(self, name):
            return getattr(real, name)

        async def post(self, place, msg, **kw):
            if place.channel in reached:
                await real.post(place, msg, **kw)
            await asyncio.Event().wait()  # the process is gone

    return Dying()


async def in_sending(bot, n: int) -> bool:
    return Counter(r.status for r in (await ledger(bot)).values())[SENDING] == n


async def crash_mid_post(boot, fake_slack, clock, channels: list[str], reached: set[str]):
    """Subscribe ``channels`` on Slack, let the tips fall due and the process die with all
    of them on the wire; returns the (stopped) bot."""
    fake_slack.clock = lambda: clock.now().timestamp()  # ts on the bot's clock
    bot = await boot(SECBOT_TIP_CONCURRENCY=str(len(channels)), SECBOT_TIP_DRAIN_SECONDS="0")
    for ch in channels:
        await subscribe_slack(bot, fake_slack, ch)
    services = bot.app[SERVICES]
    services.transports["slack"] = dying(services.transports["slack"], reached)
    await clock.advance(hours=1, minutes=31)
    await eventually(lambda: in_sending(bot, len(channels)))
    await fake_slack.wait_for(lambda s: len(taken_tips(s)) == len(reached) or None)
    await stop_bot(bot)  # the crash: every post cut off, every row left `sending`
    await clock.advance(minutes=5)  # their leases have run out; within the grace window
    return bot


async def test_a_post_that_reached_slack_is_recorded_and_one_that_did_not_is_sent_once(
    boot, fake_slack, clock
):
    await crash_mid_post(boot, fake_slack, clock, ["CREACHED", "CLOST"], {"CREACHED"})
    (arrived,) = taken_tips(fake_slack)
    bot2 = await boot()
    try:

        async def all_sent() -> bool:
            return {r.status for r in (await ledger(bot2)).values()} == {SENT}

        await eventually(all_sent)
        await checked(bot2)
        rows = await ledger(bot2)
        per_channel = Counter(m["channel"] for m in taken_tips(fake_slack))
        assert per_channel == {"CREACHED": 1, "CLOST": 1}  # each exactly once
        # (a) found in the history: recorded with the message's ts, never posted again.
        assert key_of(arrived) == tip_key(rows["CREACHED"].id)
        assert rows["CREACHED"].message_id == arrived["ts"]
        # (b) not in the history: posted again, once, with the same key.
        (resent,) = taken_tips(fake_slack, "CLOST")
        assert key_of(resent) == tip_key(rows["CLOST"].id)
        assert rows["CLOST"].message_id == resent["ts"]
        looks = fake_slack.api_calls("conversations.history")
        assert {c["channel"] for c in looks} == {"CREACHED", "CLOST"}
        assert all(c["include_all_metadata"] in ("1", "true") for c in looks)
    finally:
        await stop_bot(bot2)


async def test_a_slack_workspace_without_history_scopes_keeps_at_most_once(
    boot, fake_slack, clock, caplog
):
    await crash_mid_post(boot, fake_slack, clock, ["CREACHED", "CLOST"], {"CREACHED"})
    fake_slack.granted = WITHOUT_HISTORY  # (d) the app was installed without them
    bot2 = await boot()
    try:

        async def settled() -> bool:
            return {r.status for r in (await ledger(bot2)).values()} == {UNKNOWN}

        await eventually(settled)
        await checked(bot2)
        rows = await ledger(bot2)
        assert {r.error for r in rows.values()} == {"in doubt: missing_scope"}
        assert ("conversations.history", "channels:history") in fake_slack.refused
        # Not re-sent (the arrived one stays single, the lost one stays lost) ...
        assert Counter(m["channel"] for m in taken_tips(fake_slack)) == {"CREACHED": 1}
        # ... and a refusal to read history is an answer, not a failed post: the
        # workspace is not paused, and tomorrow's tips go out.
        assert bot2.app[SERVICES].workspaces.reason("slack", "T111") is None
        await clock.advance(days=1)
        await fake_slack.wait_for(lambda s: len(taken_tips(s)) == 3 or None)
        assert "Security tip" not in caplog.text
    finally:
        await stop_bot(bot2)


async def test_a_teams_post_cut_off_mid_way_is_unknown_and_not_sent_again(
    boot, fake_connector, clock
):
    bot = await boot(SECBOT_TIP_DRAIN_SECONDS="0")
    status, _ = await bot.teams_say("tip subscribe 09:30 mon-fri", mention=True)
    assert status == 202
    await fake_connector.wait_for(lambda s: s.sent())  # the confirmation
    services = bot.app[SERVICES]
    services.transports["teams"] = dying(services.transports["teams"], {TEAMS_CHANNEL})
    await clock.advance(hours=1, minutes=31)
    await eventually(lambda: in_sending(bot, 1))
    await stop_bot(bot)
    await clock.advance(minutes=5)
    posts = len(fake_connector.sent())
    bot2 = await boot()
    try:

        async def settled() -> bool:
            return [r.status for r in (await ledger(bot2)).values()] == [UNKNOWN]

        await eventually(settled)  # (c) the Bot Connector can't tell: at most once
        await checked(bot2)
        (row,) = (await ledger(bot2)).values()
        assert row.error and row.error.startswith("in doubt: teams")
        assert len(fake_connector.sent()) == posts  # not posted again
    finally:
        await stop_bot(bot2)


async def test_a_post_that_times_out_is_looked_for_and_sent_once(boot, fake_slack, clock):
    """A live instance whose post hangs past half its lease gives it up; the row stays
    `sending` for one more lease (nobody may look while it could still arrive), then
    the history shows it never arrived and it is posted once."""
    fake_slack.clock = lambda: clock.now().timestamp()
    bot = await boot(SECBOT_TIP_LEASE_SECONDS="2")  # a post may take 1 s
    try:
        await subscribe_slack(bot, fake_slack, "CSLOW")
        held = fake_slack.held["chat.postMessage"] = asyncio.Event()
        await clock.advance(hours=1, minutes=31)

        async def given_up() -> bool:
            row = (await ledger(bot)).get("CSLOW")
            return row is not None and row.status == SENDING and row.error == "timed out"

        await eventually(given_up)
        held.set()  # Slack finds the caller gone: the post never happened
        del fake_slack.held["chat.postMessage"]
        assert taken_tips(fake_slack) == []
        await clock.advance(seconds=3)  # the row's extra lease runs out

        async def sent() -> bool:
            return (await ledger(bot))["CSLOW"].status == SENT

        await eventually(sent)
        await checked(bot)
        assert len(taken_tips(fake_slack, "CSLOW")) == 1
    finally:
        await stop_bot(bot)


async def test_the_history_search_pages_back_and_is_bounded(fake_slack, monkeypatch):
    """``find_posted`` over HTTP against the fake Slack: newest first, page after page
    (cursor), from ``since`` on; found on a later page, absent when the history ends, and
    unknown (never absent) when more history is left than it looks through."""
    from datetime import UTC, datetime, timedelta

    from slack_sdk.web.async_client import AsyncWebClient

    from bot.adapters.slack import history
    from bot.adapters.slack.transport import SlackTransport
    from bot.core.model import Message, Place

    monkeypatch.setattr(history, "PAGE", 3)
    monkeypatch.setattr(history, "PAGES", 2)
    now = datetime(2026, 3, 23, 9, 30, tzinfo=UTC)
    fake_slack.clock = lambda: now.timestamp()
    slack = SlackTransport(AsyncWebClient(token=fake_slack.token, base_url=fake_slack.url + "api/"))
    place = Place("slack", "T111", "CBUSY")
    await slack.post(place, Message("older, before the search starts"), key="tip:1")
    now += timedelta(minutes=10)
    ref = await slack.post(place, Message("the tip"), key="tip:2")
    for n in range(4):  # the tip is on the second page, newest first
        await slack.post(place, Message(f"chatter {n}"))
    since = now - timedelta(minutes=2)
    assert (await slack.find_posted(place, "tip:2", since)).ref == ref
    assert (await slack.find_posted(place, "tip:1", since)).state == "absent"  # before since
    assert (await slack.find_posted(place, "tip:9", since)).state == "absent"
    for n in range(2):  # now more than two pages of history since the post
        await slack.post(place, Message(f"more chatter {n}"))
    sighting = await slack.find_posted(place, "tip:9", since)
    assert sighting.state == "unknown" and sighting.why == "history longer than searched"
    assert (await slack.find_posted(place, "tip:2", since)).state == "unknown"  # page 3
    fake_slack.method_errors["conversations.history"] = "not_in_channel"
    assert (await slack.find_posted(place, "tip:2", since)).why == "not_in_channel"
    thread = Place("slack", "T111", "CBUSY", thread=ref.id if ref else "1.1")
    assert (await slack.find_posted(thread, "tip:2", since)).state == "unknown"


@pytest.mark.parametrize(
    "cut_off",
    [
        # Slack takes the post, then the connection is reset before its answer:
        # slack_sdk's connection-error handler would post it again.
        "drop_after",
        # Slack takes the post, then answers 500: it may well be there.
        "fail_after",
    ],
)
async def test_a_post_cut_off_after_slack_took_it_is_found_not_posted_again(
    boot, fake_slack, clock, cut_off
):
    """A keyed tip post whose outcome is unknown is not retried blindly but left in
    doubt, then found in the history by its key and recorded once."""
    fake_slack.clock = lambda: clock.now().timestamp()
    bot = await boot()
    try:
        await subscribe_slack(bot, fake_slack, "CCUT")
        getattr(fake_slack, cut_off)["chat.postMessage"] = 1
        await clock.advance(hours=1, minutes=31)

        async def in_doubt() -> bool:
            row = (await ledger(bot)).get("CCUT")
            return row is not None and row.status == SENDING and bool(row.error)

        await eventually(in_doubt)
        if cut_off == "drop_after":
            assert (await ledger(bot))["CCUT"].error.startswith("connection lost")
        await clock.advance(seconds=20)  # its extra lease runs out

        async def sent() -> bool:
            return (await ledger(bot))["CCUT"].status == SENT

        await eventually(sent)
        await checked(bot)
        (tip,) = taken_tips(fake_slack, "CCUT")  # once, not twice
        assert (await ledger(bot))["CCUT"].message_id == tip["ts"]
    finally:
        await stop_bot(bot)


async def test_a_rate_limited_tip_waits_its_turn_and_is_never_in_doubt(boot, fake_slack, clock):
    """Slack answers the tip's post with 429 and a Retry-After longer than a post may take.
    That is a refusal (nothing was posted): the row goes back to wait, the workspace waits
    the Retry-After, and the tip is posted once afterwards, with no history search."""
    fake_slack.clock = lambda: clock.now().timestamp()
    bot = await boot()
    try:
        await subscribe_slack(bot, fake_slack, "CBUSY")
        fake_slack.retry_after = "30"
        fake_slack.rate_limits["chat.postMessage"] = 1
        await clock.advance(hours=1, minutes=31)

        async def refused() -> bool:
            row = (await ledger(bot)).get("CBUSY")
            return row is not None and row.error == "ratelimited"

        await eventually(refused)
        assert (await ledger(bot))["CBUSY"].status not in (SENDING, UNKNOWN)
        assert taken_tips(fake_slack) == []
        await clock.advance(seconds=31)

        async def sent() -> bool:
            return (await ledger(bot))["CBUSY"].status == SENT

        await eventually(sent)
        await checked(bot)
        assert len(taken_tips(fake_slack, "CBUSY")) == 1
        assert fake_slack.api_calls("conversations.history") == []
    finally:
        await stop_bot(bot)
