"""Two senders racing for the same pending row (``/tip send-now`` while the scheduler's
fan-out picks the row up): exactly one posts it, the other is "skipped", even when both
moves to ``sending`` land in the same batched ledger flush."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, time

import pytest

from app import SERVICES
from bot.clock import FakeClock
from tests.support import start_bot, stop_bot
from tests.test_tips_scale import seed
from tests.tips_helpers import library, tip_posts, tips_of, unpaced

MONDAY_0800 = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)
DUE = time(8, 30)  # nothing is due by itself: only the two racing senders post


@pytest.fixture
def clock():
    return FakeClock(MONDAY_0800)


@pytest.fixture
async def boot(slack_env, fake_slack, fake_connector, clock):
    started = []

    async def start(**env):
        bot = await start_bot(
            {**slack_env, **env},
            clock=clock,
            slack=fake_slack,
            connector=fake_connector,
            content=library(),
        )
        started.append(bot)
        return unpaced(bot)

    yield start
    for bot in started:
        if not bot.session.closed:
            await stop_bot(bot)


async def test_send_now_racing_the_fan_out_posts_the_row_once(boot, slack_env, fake_slack, clock):
    seed(slack_env["SECBOT_DB"], ["C001"], DUE, MONDAY_0800)
    bot = await boot()
    tips = tips_of(bot)
    sub = tips.store.active()[0]
    now = clock.now()
    # /tip send-now claims a manual row; the scheduler's tick reads it as ready in the
    # same moment (e.g. it was between claim pages). Both try to send it.
    (manual, _counted), fan_out = await asyncio.gather(tips.send_now(sub), tips.send_ready(now))
    statuses = sorted([manual.status, *(r.status for r in fan_out)])
    assert statuses.count("sent") == 1, statuses
    assert Counter(p["channel"] for p in tip_posts(fake_slack)) == {"C001": 1}


async def test_two_sends_of_one_row_post_it_once(boot, slack_env, fake_slack, clock):
    seed(slack_env["SECBOT_DB"], ["C001"], DUE, MONDAY_0800)
    bot = await boot()
    tips = tips_of(bot)
    sub = tips.store.active()[0]
    row_id = tips.claim(sub, clock.now(), kind="manual", due=clock.now())
    row = tips.store.get_delivery(row_id)
    results = await asyncio.gather(tips.send(row), tips.send(row))
    assert sorted(r.status for r in results) == ["sent", "skipped"], results
    assert len(tip_posts(fake_slack, "C001")) == 1
    assert bot.app[SERVICES]  # keep the import used
