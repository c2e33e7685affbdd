"""The tip fan-out shared by several instances: pages claimed with a lease, a killed
instance's page taken over when its lease runs out, and no tip posted twice.

The guarantee across a kill (``content/tips/lease.py``): no channel is ever posted the
same tip twice; the rows a killed instance had claimed but not started are sent by the
next instance to look; rows caught between their ``sending`` commit and their outcome's
commit (at most ``SECBOT_TIP_CONCURRENCY``) are looked for in the Slack channel's history
(``content/tips/doubt.py``): recorded if there, sent again if not. So on Slack every
channel gets its tip exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

from bench.parts import seed_subscriptions
from bench.procs import start
from bot.core.model import Place
from content.tips.schedule import Schedule
from content.tips.store import PENDING, SENDING, SENT, UNKNOWN, Claim, TipStore
from tests.support import SIGNING_SECRET, database_url_for, eventually, ready_db
from tests.test_tips_in_doubt import taken_tips
from tests.tips_helpers import MONDAY_0800, tip_posts


async def _ledger(store: TipStore, n: int) -> list[int]:
    rows = []
    async with store.batch():
        for i in range(n):
            sub = await store.subscriptions.subscribe(
                Place("slack", "T", f"C{i}"), Schedule(), "u", MONDAY_0800
            )
            rows.append(
                await store.ledger.claim(
                    sub, kind="scheduled", tip_id="t1", cycle=1, due=MONDAY_0800,
                    now=MONDAY_0800, local_date=MONDAY_0800.date(),
                )
            )  # fmt: skip
    return rows


async def test_a_page_is_held_by_one_instance_until_its_lease_runs_out():
    """Two instances claiming at once split the ready rows; a page held by a live
    instance is never taken, one whose lease ran out is; a row caught in ``sending``
    is taken for settling only once its lease has run out, by one instance, which alone
    may then settle it; a clean stop gives the rest back at once."""
    db = await ready_db(":memory:")
    store = TipStore(db)
    now = MONDAY_0800
    rows = await _ledger(store, 5)
    a = Claim("instance-a", now + timedelta(seconds=15))
    b = Claim("instance-b", now + timedelta(seconds=15))

    page_a = await store.leases.claim_page(now, a, 3)
    page_b = await store.leases.claim_page(now, b, 3)
    assert [r.id for r in page_a] == rows[:3]  # oldest first
    assert [r.id for r in page_b] == rows[3:]  # the rest, none of a's
    assert page_a[0].place == Place("slack", "T", "C0")
    assert await store.leases.claim_page(now, b, 3) == []

    # a posts one row, then dies with it on the wire and two rows not started.
    assert await store.ledger.mark_sending_many([rows[0]], now, a) == {rows[0]}
    later = now + timedelta(seconds=10)
    assert await store.leases.claim_page(later, b, 10) == []  # a's lease still holds
    assert await store.leases.take_in_doubt(later, b, 10) == []
    assert await store.leases.lease_ends(later) == a.until
    # b renews its own; a renews nothing (it is dead).
    await store.leases.renew(Claim("instance-b", later + timedelta(seconds=15)))

    after = now + timedelta(seconds=16)
    # a's in-doubt row, its lease run out, is due a look now (not after b's lease).
    assert await store.leases.lease_ends(after) == a.until
    c = Claim("instance-c", after + timedelta(seconds=15))
    taken = await store.leases.take_in_doubt(after, c, 10)
    assert [d.row.id for d in taken] == [rows[0]]
    assert taken[0].row.place == Place("slack", "T", "C0") and taken[0].since == now
    assert await store.leases.take_in_doubt(after, b, 10) == []  # c holds it now
    # Only the holder settles it (b can't), and only once.
    assert not await store.leases.settle_in_doubt(rows[0], "instance-b", UNKNOWN, after)
    assert await store.leases.settle_in_doubt(rows[0], "instance-c", UNKNOWN, after, error="x")
    assert not await store.leases.settle_in_doubt(rows[0], "instance-c", SENT, after)
    assert await store.leases.lease_ends(after) == later + timedelta(seconds=15)  # b's own
    taken = await store.leases.claim_page(after, b, 10)
    assert [r.id for r in taken] == rows[1:3]  # a's page, not b's own (still held)
    statuses = {d.id: d.status for d in await store.ledger.deliveries()}
    assert statuses == {rows[0]: UNKNOWN, **{r: PENDING for r in rows[1:]}}

    # A clean stop gives b's pending rows back: claimable at once by anyone.
    await store.leases.release("instance-b")
    assert {r.id for r in await store.leases.claim_page(after, c, 10)} == set(rows[1:])
    await db.close()


CHANNELS = 120
CONCURRENCY = 4


async def test_a_killed_instance_fan_out_is_finished_by_the_next_and_no_tip_is_sent_twice(
    fake_slack, tmp_path
):
    """A real secbot process fans a tip out to 120 Slack channels and is killed with
    SIGKILL while some posts are on the wire (held by Slack, which then finds their
    caller gone and never takes them). A second process on the same database takes over
    once the lease runs out, finds in the channels' history that those posts never
    arrived, and sends them: every channel gets its tip exactly once."""
    fake_slack.clock = time.time  # both processes run on the real clock
    db_path = str(tmp_path / "secbot.db")
    url = database_url_for(db_path)  # both processes on PostgreSQL when the suite is
    await seed_subscriptions(url or db_path, CHANNELS)
    env = {
        **({"SECBOT_DATABASE_URL": url} if url else {"SECBOT_DB": db_path}),
        "SLACK_BOT_TOKEN": fake_slack.token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url + "api/",
        "SECBOT_TIP_CONCURRENCY": str(CONCURRENCY),
        "SECBOT_TIP_LEASE_SECONDS": "2",
    }
    first = await asyncio.to_thread(start, "secbot-a", ["app.py"], env, None, 60)
    try:
        await eventually(lambda: len(tip_posts(fake_slack)) >= CHANNELS // 4, timeout=60)
        # Slack stops answering: the next posts hang on the wire, then the process dies.
        held = fake_slack.held["chat.postMessage"] = asyncio.Event()
        before_hold = len(tip_posts(fake_slack))
        await eventually(lambda: len(tip_posts(fake_slack)) > before_hold, timeout=60)
    finally:
        first.proc.kill()
        await asyncio.to_thread(first.proc.wait)
    held.set()  # the callers are gone: Slack never takes those posts
    del fake_slack.held["chat.postMessage"]
    posted_by_first = {p["channel"] for p in taken_tips(fake_slack)}
    assert len(posted_by_first) < CHANNELS  # killed mid fan-out

    db = await ready_db(db_path)
    store = TipStore(db)
    left = Counter(d.status for d in await store.ledger.deliveries())
    assert left[PENDING] > 0 and left[SENDING] > 0  # claimed or on the wire at the kill

    second = await asyncio.to_thread(start, "secbot-b", ["app.py"], env, None, 60)
    try:

        async def settled() -> bool:
            statuses = {d.status for d in await store.ledger.deliveries()}
            return not statuses & {PENDING, SENDING}

        await eventually(settled, timeout=120)
    finally:
        second.stop()
    try:
        await _check_exactly_once(store, fake_slack, posted_by_first)
    finally:
        await db.close()


async def _check_exactly_once(store: TipStore, fake_slack, posted_by_first) -> None:
    per_channel = Counter(p["channel"] for p in taken_tips(fake_slack))
    assert len(per_channel) == CHANNELS and set(per_channel.values()) == {1}  # exactly once
    ledger = await store.ledger.deliveries()
    assert len(ledger) == CHANNELS  # one row per channel for the day
    assert {d.status for d in ledger} == {SENT}
    # The second process sent what the first had claimed but not started, and the posts
    # the first had on the wire (found absent in the history).
    assert len(per_channel) > len(posted_by_first)
    assert len(fake_slack.api_calls("conversations.history")) > 0
