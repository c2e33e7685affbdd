"""The acknowledging path's own rules (issue 14, fast durable intake): a front door's
keep goes ahead of the handling side's writes, but not so far that handling starves;
and the door runs at most a set number of deliveries ahead of the handlers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.adapters.slack import pace as pace_module
from bot.adapters.slack.pace import Pace
from bot.server import SERVICES
from bot.storage.checkpoints import Checkpointer
from bot.storage.inbox import RAW, Inbox
from bot.storage.sql import WriteLock
from tests.support import (
    eventually,
    help_burst,
    kept_slack,
    ready_db,
    start_bot,
    stop_bot,
)


async def _turns(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_front_door_write_waits_only_for_the_holder_then_the_queue_takes_turns():
    lock = WriteLock()
    order: list[str] = []

    async def write(name: str, *, first: bool = False) -> None:
        if first:
            async with lock.first():
                order.append(name)
        else:
            async with lock:
                order.append(name)

    await lock.acquire()  # a handler's transaction holds the file's write lock
    queued = [asyncio.create_task(write(f"handler{i}")) for i in range(3)]
    await _turns()
    doors = [asyncio.create_task(write(f"door{i}", first=True)) for i in range(2)]
    await _turns()
    assert order == []  # nobody writes while the lock is held
    lock.release()
    await asyncio.gather(*queued, *doors)
    # The door goes first, then the two queues take turns, each in its own order.
    assert order == ["door0", "handler0", "door1", "handler1", "handler2"]
    assert not lock.locked()


async def test_a_cancelled_waiter_passes_the_write_lock_on():
    lock = WriteLock()
    await lock.acquire()
    gone = asyncio.create_task(lock.acquire(first=True))
    after = asyncio.create_task(lock.acquire())
    await _turns()
    gone.cancel()
    lock.release()
    with pytest.raises(asyncio.CancelledError):
        await gone
    await after  # the lock reached the next waiter, not nobody
    assert lock.locked()
    lock.release()
    assert not lock.locked()


async def test_the_door_waits_for_room_once_it_is_the_limit_ahead_of_handling():
    pace = Pace(ahead=2, max_wait=3600)  # a wait that never ends within a test
    await pace.enter()
    await pace.enter()
    third = asyncio.create_task(pace.enter())
    fourth = asyncio.create_task(pace.enter())
    await _turns()
    assert not third.done() and not fourth.done()
    pace.finished()  # a handler is done with one delivery: one more may be kept
    await _turns()
    assert third.done() and not fourth.done()
    pace.caught_up(in_hand=0)  # the consumer found the inbox empty
    await _turns()
    assert fourth.done()
    assert pace.ahead <= 2


async def test_kept_bodies_commit_in_arrival_order_across_chunks(tmp_path):
    db = await ready_db(str(tmp_path / "keep.db"))
    try:
        inbox = Inbox(db)
        now = datetime.now(UTC)
        rows = [(f"body {i}", now) for i in range(300)]  # more than one INSERT's worth
        await inbox.keep("slack", RAW, rows)
        kept = await inbox.after("slack", 0, -1)
        assert [k.payload for k in kept] == [r[0] for r in rows]
        assert {k.kind for k in kept} == {RAW}
        assert all(k.received_at == now for k in kept)
    finally:
        await db.close()


async def test_requests_beyond_the_limit_are_acknowledged_as_handlers_finish(
    slack_env, fake_slack, fake_connector, monkeypatch
):
    # The door may run only two deliveries ahead, and a request never gives up waiting:
    # the rest are let in only by handlers finishing. Each is handled exactly once.
    monkeypatch.setattr(pace_module, "AHEAD", 2)
    monkeypatch.setattr(pace_module, "MAX_WAIT_SECONDS", 3600.0)
    bot = await start_bot(slack_env, slack=fake_slack, connector=fake_connector, content=False)
    try:
        triggers = await help_burst(bot, fake_slack, "paced", 12)
        await eventually(lambda: not kept_slack(slack_env["SECBOT_DB"]))
        paths = sorted(c.path for c in fake_slack.calls if c.path.startswith("/response/"))
        assert paths == sorted(f"/response/{t}" for t in triggers)
    finally:
        await stop_bot(bot)


@pytest.mark.sqlite_only  # PostgreSQL has no write-ahead log file to copy back
async def test_the_write_ahead_log_is_copied_back_by_the_background_checkpointer(running):
    checkpointer = running.app[SERVICES].feature(Checkpointer)
    for i in range(3):
        assert (await running.slash("/secbot", "help", trigger_id=f"wal.{i}")).status == 200
    await running.slack.wait_for(lambda s: len(s.responses()) >= 3)
    # What the deliveries committed reaches the file without a commit paying for it.
    await eventually(lambda: checkpointer.copied > 0)
    assert checkpointer.rounds > 0
