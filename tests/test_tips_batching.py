"""The fan-out's batched ledger writes and its short Slack post.

The ledger writes of a fan-out are committed in one transaction per event-loop turn
(``bot/storage/batched.py``), and Slack posts go out pre-serialised over slack_sdk's session
(``bot/adapters/slack/web_api.py``). Neither may change what the ledger promises: a row is
committed as ``sending`` before its post starts, at most ``SECBOT_TIP_CONCURRENCY`` rows
are ever ``sending``, and a crash never causes a second post."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from datetime import time

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from app import SERVICES
from bot.adapters.slack.transport import SlackTransport
from bot.adapters.slack.web_api import MessageBodies
from bot.core import DeliveryFailed
from bot.core.model import Place, message
from bot.render.slack import render
from bot.storage.batched import BatchedWriter
from bot.storage.db import open_db
from bot.storage.one_trip import rows_in_one_trip
from bot.storage.sql import atomic, execute
from content.tips.message import tip_message
from content.tips.store import SENDING, SENT
from tests.support import raw_file, stop_bot
from tests.test_tips_scale import seed
from tests.tips_helpers import (
    MONDAY_0800,
    checked,
    eventually,
    library,
    tip_posts,
    tips_of,
)

# --- the ledger writer -----------------------------------------------------------------


@pytest.fixture
async def ledger_db(tmp_path):
    path = tmp_path / "ledger.db"
    made = sqlite3.connect(path)
    made.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    made.close()
    db = open_db(path)
    yield db
    await db.close()


def committed_rows(db) -> set[int]:
    """What another connection sees: only committed rows."""
    other = sqlite3.connect(db.engine.url.database)
    try:
        return {r[0] for r in other.execute("SELECT id FROM t")}
    finally:
        other.close()


def insert(db, i: int):
    async def write() -> int:
        statement = text("INSERT INTO t (id, v) VALUES (:i, 'x')")
        return (await execute(db, statement, {"i": i})).rowcount

    return write


async def test_writes_of_one_loop_turn_share_one_transaction(ledger_db):
    ledger = BatchedWriter(ledger_db)
    commits: list[str] = []
    event.listen(ledger_db.engine.sync_engine, "commit", lambda conn: commits.append("COMMIT"))
    futures = [ledger.submit(insert(ledger_db, i)) for i in range(5)]
    ledger.record(insert(ledger_db, 99))
    assert committed_rows(ledger_db) == set()  # nothing is written before the flush
    assert await asyncio.gather(*futures) == [1] * 5
    # Each future resolves only once its write is committed, so other connections see it.
    assert committed_rows(ledger_db) == {0, 1, 2, 3, 4, 99}
    assert len(commits) == 1 and ledger.transactions == 1
    await ledger.settled()


async def test_groups_get_all_their_items_after_the_plain_writes(ledger_db):
    ledger = BatchedWriter(ledger_db)
    calls: list = []

    def doubled(items: list[int]) -> list[int]:
        calls.append(list(items))
        return [2 * i for i in items]

    first = ledger.submit(1, group=doubled)
    plain = ledger.submit(lambda: calls.append("plain"))
    second = ledger.submit(2, group=doubled)
    assert (await first, await second) == (2, 4)
    await plain
    assert calls == ["plain", [1, 2]]


async def test_a_failing_write_does_not_take_the_others_down(ledger_db):
    ledger = BatchedWriter(ledger_db)
    hooks: list = []

    def broken():
        raise RuntimeError("bad row")

    good = ledger.submit(insert(ledger_db, 1))
    bad = ledger.submit(broken, committed=lambda value, error: hooks.append(error))
    ledger.record(insert(ledger_db, 2))
    assert await good == 1
    with pytest.raises(RuntimeError):
        await bad
    await ledger.settled()
    assert committed_rows(ledger_db) == {1, 2}
    assert [type(e) for e in hooks] == [RuntimeError]


async def test_after_a_failed_batch_writes_are_retried_in_the_batch_order(ledger_db):
    """Plain writes (a gone channel's outcome) before grouped ones (moves to sending),
    also when a failure makes each write go again on its own."""
    ledger = BatchedWriter(ledger_db)
    order: list = []

    def starts(items: list[int]) -> list[int]:
        order.append(("group", list(items)))
        return items

    def broken():
        raise RuntimeError("bad row")

    first = ledger.submit(1, group=starts)
    plain = ledger.submit(lambda: order.append("plain"))
    bad = ledger.submit(broken)
    assert await first == 1
    await plain
    with pytest.raises(RuntimeError):
        await bad
    # The batch ran the plain write, then failed on the broken one; the retries go
    # plain first too (in submission order the group would have gone before them).
    assert order == ["plain", "plain", ("group", [1])]


async def test_a_cancelled_start_is_dropped_but_an_outcome_is_always_written(ledger_db):
    ledger = BatchedWriter(ledger_db)
    start = ledger.submit(insert(ledger_db, 1))
    start.cancel()  # its worker is gone, so nobody would post it
    ledger.record(insert(ledger_db, 2))  # a post happened: its outcome must be written
    await ledger.settled()
    assert committed_rows(ledger_db) == {2}


async def test_a_writer_not_together_commits_each_write_and_answers_after_the_flush(ledger_db):
    """The tip ledger's writer (``together=False``): no transaction around a flush, so
    each write commits by itself, in order, and one that fails undoes nothing else; each
    future still resolves only once the whole flush is through."""
    ledger = BatchedWriter(ledger_db, together=False)
    seen: list[set[int]] = []

    def look() -> None:  # what another connection sees in the middle of the flush
        seen.append(committed_rows(ledger_db))

    def broken():
        raise RuntimeError("bad row")

    first = ledger.submit(insert(ledger_db, 1))
    middle = ledger.submit(look)
    bad = ledger.submit(broken)
    ledger.record(insert(ledger_db, 2))
    assert not first.done()
    assert await first == 1
    await middle
    assert seen[0] == {1}  # committed before the next write ran, not at the flush's end
    with pytest.raises(RuntimeError):
        await bad
    await ledger.settled()
    assert committed_rows(ledger_db) == {1, 2}


async def test_one_trip_rows_commit_on_their_own_outside_a_block(ledger_db):
    """``rows_in_one_trip`` outside ``atomic``: the statement commits by itself (the rows
    are seen by another connection at once); inside a block it joins it and is undone
    with it."""
    returning = text("INSERT INTO t (id, v) VALUES (:i, 'x') RETURNING id")
    assert await rows_in_one_trip(ledger_db, returning, {"i": 7}) == [(7,)]
    assert committed_rows(ledger_db) == {7}
    with pytest.raises(RuntimeError):
        async with atomic(ledger_db):
            assert await rows_in_one_trip(ledger_db, returning, {"i": 8}) == [(8,)]
            raise RuntimeError("undo the block")
    assert committed_rows(ledger_db) == {7}
    with pytest.raises(DBAPIError):  # a broken statement raises as SQLAlchemy would
        await rows_in_one_trip(ledger_db, returning, {"i": 7})
    assert committed_rows(ledger_db) == {7}


# --- the fan-out -----------------------------------------------------------------------


DUE = time(8, 30)  # the clock starts at 08:00, so nothing is sent until a test moves it


def ledger_statuses(db_path: str) -> dict[str, str]:
    """channel -> status, as committed (read on a connection of its own; on PostgreSQL
    the database that stands for the file)."""
    conn = raw_file(db_path)
    try:
        rows = conn.execute(
            "SELECT s.channel, d.status FROM tip_deliveries d"
            " JOIN tip_subscriptions s ON s.id = d.subscription_id"
        ).fetchall()
    finally:
        conn.close()
    return dict(rows)


async def test_every_post_starts_after_its_sending_is_committed_and_never_more_than_concurrency(
    boot, slack_env, fake_slack, clock
):
    db_path = slack_env["SECBOT_DB"]
    channels = [f"C{i:03d}" for i in range(40)]
    await seed(db_path, channels, DUE, MONDAY_0800)
    bot = await boot(SECBOT_TIP_CONCURRENCY="4")
    services = bot.app[SERVICES]
    real = services.transports["slack"]
    seen: list[tuple[str, int]] = []

    class Checking:
        platform = "slack"

        async def post(self, place, msg, **kw):
            committed = ledger_statuses(db_path)
            sending = sum(1 for s in committed.values() if s == SENDING)
            seen.append((committed.get(place.channel, ""), sending))
            return await real.post(place, msg, **kw)

    services.transports["slack"] = Checking()
    await clock.advance(minutes=31)
    await fake_slack.wait_for(lambda s: len(tip_posts(s)) >= 40 or None)
    await checked(bot)
    assert len(seen) == 40
    assert {status for status, _ in seen} == {SENDING}  # durable before its post starts
    assert max(n for _, n in seen) <= 4  # never more than the posts on the wire
    assert set(ledger_statuses(db_path).values()) == {SENT}
    assert Counter(p["channel"] for p in tip_posts(fake_slack)) == dict.fromkeys(channels, 1)
    # 80 ledger writes, batched: each outcome shares a commit with a next `sending`.
    assert tips_of(bot).writes.batched.transactions < 80


async def test_a_crash_before_outcomes_are_committed_leaves_only_in_flight_rows_sending(
    boot, slack_env, fake_slack, clock
):
    """Posts whose outcome was queued but not yet committed when the process died are
    `sending` at restart (never more of them than the concurrency); the restart finds
    each in the channel's history (they had reached Slack) and records it, so every
    channel is served exactly once."""
    fake_slack.clock = lambda: clock.now().timestamp()  # ts on the bot's clock
    db_path = slack_env["SECBOT_DB"]
    channels = [f"C{i:03d}" for i in range(20)]
    await seed(db_path, channels, DUE, MONDAY_0800)
    bot = await boot(SECBOT_TIP_CONCURRENCY="3", SECBOT_TIP_DRAIN_SECONDS="0")
    services = bot.app[SERVICES]
    real = services.transports["slack"]
    tips = tips_of(bot)
    crashed = asyncio.Event()
    posts = 0

    async def nothing_commits(queue) -> None:
        return None

    class DiesAfterFive:
        platform = "slack"

        async def post(self, place, msg, **kw):
            nonlocal posts
            if crashed.is_set():
                await asyncio.Event().wait()  # the process is gone: nothing more leaves
            ref = await real.post(place, msg, **kw)
            posts += 1
            if posts == 5:
                # The process dies now, before this outcome (or any later write) commits.
                tips.writes.batched._flush = nothing_commits  # type: ignore[method-assign]
                crashed.set()
            return ref

    services.transports["slack"] = DiesAfterFive()
    await clock.advance(minutes=31)
    await eventually(crashed.is_set)
    stuck = {ch for ch, s in ledger_statuses(db_path).items() if s == SENDING}
    assert 1 <= len(stuck) <= 3
    await stop_bot(bot)

    await clock.advance(minutes=5)  # restart within the grace window
    bot2 = await boot(SECBOT_TIP_CONCURRENCY="3")
    await fake_slack.wait_for(lambda s: len(tip_posts(s)) >= len(channels) or None)
    await eventually(lambda: set(ledger_statuses(db_path).values()) == {SENT})
    await checked(bot2)
    assert len(fake_slack.api_calls("conversations.history")) >= len(stuck)
    per_channel = Counter(p["channel"] for p in tip_posts(fake_slack))
    assert per_channel == dict.fromkeys(channels, 1)  # none twice, none lost


# --- the short Slack post ----------------------------------------------------------------


async def test_the_short_post_sends_what_slack_sdk_would(running, fake_slack, content_library):
    tip = next(iter(content_library.tips.values()))
    msg = tip_message(tip)
    place = Place("slack", "T111", "C1", thread="1700000000.000001")
    short = running.app[SERVICES].transports["slack"]
    assert short.poster.usable()
    sdk = SlackTransport(AsyncWebClient(token="xoxb-test-token", base_url=fake_slack.url + "api/"))
    assert not sdk.poster.usable()  # no pooled session: slack_sdk's own chat_postMessage
    for transport in (short, sdk):
        ref = await transport.post(place, msg)
        assert ref is not None and ref.id.startswith("1700000000.")
    ours, theirs = fake_slack.named("/api/chat.postMessage")[-2:]
    assert ours.body == theirs.body == {"channel": "C1", "thread_ts": place.thread, **render(msg)}
    for header in ("Authorization", "Content-Type"):
        assert ours.headers[header] == theirs.headers[header]
    assert ours.headers["Authorization"] == "Bearer xoxb-test-token"
    assert ours.headers["User-Agent"] == short.client.headers["User-Agent"]


async def test_the_short_post_maps_refusals_as_before(running, fake_slack):
    transport = running.app[SERVICES].transports["slack"]
    msg = tip_message(next(iter(library().tips.values())))
    fake_slack.channel_errors["C9"] = "is_archived"
    with pytest.raises(DeliveryFailed) as gone:
        await transport.post(Place("slack", "T111", "C9"), msg)
    assert gone.value.permanent and gone.value.reason == "is_archived"
    transport.client.retry_handlers.clear()  # no client-side retry: the 429 surfaces
    fake_slack.rate_limits["chat.postMessage"] = 1
    with pytest.raises(DeliveryFailed) as limited:
        await transport.post(Place("slack", "T111", "C1"), msg)
    assert limited.value.reason == "ratelimited" and limited.value.retry_after == 1.0
    assert not limited.value.permanent


def test_bodies_are_serialised_once_and_spliced_exactly():
    bodies = MessageBodies()
    msg = message('A "tip" & <more>, ünïcode')
    odd = Place("slack", "T111", 'C"é\\1', thread="1700000000.000002")
    first = bodies.body(Place("slack", "T111", "C1"), msg)
    assert json.loads(first) == {"channel": "C1", **render(msg)}
    assert json.loads(bodies.body(odd, msg)) == {
        "channel": odd.channel,
        "thread_ts": odd.thread,
        **render(msg),
    }
    second = bodies.body(Place("slack", "T111", "C2"), msg)
    assert first[len(b'{"channel": "C1"') :] == second[len(b'{"channel": "C2"') :]


def test_every_tip_is_rendered_once_however_many_channels_get_it():
    """A fan-out posts one message per tip. The bodies are kept for more messages than
    there are tips (at 256 the cache, full with 262 tips, emptied itself over and over),
    and the least recently posted message is the one dropped."""
    bodies = MessageBodies()
    tips = [message(f"tip {i}") for i in range(600)]
    for n in range(3):
        for i, msg in enumerate(tips):
            bodies.body(Place("slack", "T111", f"C{n}-{i}"), msg)
    assert bodies.renders == len(tips)

    small, here = MessageBodies(size=2), Place("slack", "T111", "C1")
    a, b, c = tips[:3]
    for msg in (a, b, a, c, a):  # c pushes out b, the least recently posted, not a
        small.body(here, msg)
    assert small.renders == 3
    small.body(here, b)
    assert small.renders == 4


# --- two senders of one row ------------------------------------------------------------
# `/tip send-now` while the scheduler's fan-out picks the same row up: exactly one posts
# it, the other is "skipped", even when both moves to `sending` land in one ledger flush.


async def test_send_now_racing_the_fan_out_posts_the_row_once(boot, slack_env, fake_slack, clock):
    await seed(slack_env["SECBOT_DB"], ["C001"], DUE, MONDAY_0800)
    bot = await boot()
    tips = tips_of(bot)
    sub = (await tips.store.subscriptions.active())[0]
    now = clock.now()
    # /tip send-now claims a manual row; the scheduler's tick reads it as ready in the
    # same moment (e.g. it was between claim pages). Both try to send it.
    (manual, _counted), fan_out = await asyncio.gather(
        tips.send_now(sub), tips.fanout.send_ready(now)
    )
    statuses = sorted([manual.status, *(r.status for r in fan_out)])
    assert statuses.count("sent") == 1, statuses
    assert Counter(p["channel"] for p in tip_posts(fake_slack)) == {"C001": 1}


async def test_two_sends_of_one_row_post_it_once(boot, slack_env, fake_slack, clock):
    await seed(slack_env["SECBOT_DB"], ["C001"], DUE, MONDAY_0800)
    bot = await boot()
    tips = tips_of(bot)
    sub = (await tips.store.subscriptions.active())[0]
    row_id = await tips.scheduler.claim(sub, clock.now(), kind="manual", due=clock.now())
    row = await tips.store.ledger.get_delivery(row_id)
    results = await asyncio.gather(tips.fanout.send(row), tips.fanout.send(row))
    # The worker (woken when this instance took the lead) may be a third sender: at most
    # one of the senders posts, and the channel sees the tip exactly once.
    assert [r.status for r in results].count("sent") <= 1, results
    assert {r.status for r in results} <= {"sent", "skipped"}, results
    await eventually(lambda: len(tip_posts(fake_slack, "C001")) == 1)
    await tips.checked()
    assert len(tip_posts(fake_slack, "C001")) == 1
