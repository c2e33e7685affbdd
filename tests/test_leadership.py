"""One leader among instances sharing a database (issue 14 item 5): the tip scheduler
runs on it alone, and leadership moves when the leader stops. (A killed leader's move
within 10 s, across real processes, is in tests/test_instances.py.)"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from app import SERVICES
from bot.core.clock import FakeClock
from bot.leadership import LEASE_SECONDS, Leadership
from tests.support import eventually, ready_db, start_bot, stop_bot, web_chat_env

T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def leadership(bot) -> Leadership:
    return bot.app[SERVICES].feature(Leadership)


async def test_the_first_instance_leads_a_second_follows_and_takes_over_when_it_stops(tmp_path):
    env = {**web_chat_env(tmp_path), "SECBOT_DB": str(tmp_path / "x.db")}
    first = await start_bot(env, features=[], content=False)
    second = None
    try:
        assert leadership(first).is_leader  # one process: it leads from its first round
        second = await start_bot(env, features=[], content=False)
        await leadership(second).step()
        assert not leadership(second).is_leader
        await leadership(first).step()  # renewing keeps it
        assert leadership(first).is_leader
        await stop_bot(first)  # a clean stop gives it up at once
        first = None
        await eventually(lambda: leadership(second).is_leader or None)
    finally:
        for bot in (first, second):
            if bot is not None:
                await stop_bot(bot)


@pytest.mark.skipif(
    os.environ.get("SECBOT_TEST_DATABASE") == "postgres",
    reason="the lease row is SQLite's; on PostgreSQL the advisory lock is freed when the"
    " leader's connection closes (tests/test_instances.py kills a leader)",
)
async def test_a_leader_that_stops_renewing_is_replaced_once_its_lease_runs_out(tmp_path):
    db = await ready_db(tmp_path / "leaders.db")
    clock = FakeClock(T0)
    dead = Leadership(db, owner="dead", clock=clock)
    alive = Leadership(db, owner="alive", clock=clock)
    await dead.step()
    await alive.step()
    assert dead.is_leader and not alive.is_leader
    await clock.set(T0 + timedelta(seconds=LEASE_SECONDS - 1))
    await alive.step()
    assert not alive.is_leader  # the lease has not run out yet
    await clock.set(T0 + timedelta(seconds=LEASE_SECONDS + 1))  # "dead" renewed nothing
    woken: list[str] = []
    alive.watch(lambda: woken.append("tips"))
    await alive.step()
    assert alive.is_leader and woken == ["tips"]
    await dead.step()  # back from a long pause: it does not lead any more
    assert not dead.is_leader
    await db.close()
