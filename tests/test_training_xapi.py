"""Exam completions to a learning record store (xAPI), end to end: the exam is taken in
the web chat over HTTP, the fake LRS receives one statement per completion, a refused
send is retried after the policy's delay, and a restart sends nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import FakeClock
from tests.fakes.lrs import FakeLrs
from tests.quiz_support import START
from tests.support import stop_bot
from tests.training_support import start_training_bot, web_pass_exam


@pytest.fixture
async def lrs():
    fake = await FakeLrs().start()
    yield fake
    await fake.close()


@pytest.fixture
def env(slack_env, lrs):
    return {
        **slack_env,
        "SECBOT_LRS_URL": lrs.endpoint,
        "SECBOT_LRS_USERNAME": "lrs-key",
        "SECBOT_LRS_PASSWORD": "lrs-secret",
    }


async def test_completions_reach_the_lrs_once_through_refusals_and_restarts(
    env, lrs, fake_slack, fake_connector
):
    lrs.failures = [503]  # the first send is refused
    clock = FakeClock(START)
    bot = await start_training_bot(env, clock=clock, slack=fake_slack, connector=fake_connector)
    try:
        await web_pass_exam(bot, "web-user-4", right=10)
        await web_pass_exam(bot, "web-user-5", right=5)
        await clock.advance(seconds=60)  # the worker's next round: the first is refused
        await lrs.wait_for(lambda s: s.puts >= 2 and len(s.statements) == 1)
        await clock.advance(seconds=3600)  # past the back-off: the refused one goes again
        found = await lrs.wait_for(lambda s: len(s.statements) == 2 and s.statements)
    finally:
        await stop_bot(bot)
    by_actor = {s["actor"]["account"]["name"]: s for s in found.values()}
    passed, failed = by_actor["web-user-4"], by_actor["web-user-5"]
    assert passed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert passed["result"]["score"] == {"raw": 10, "min": 0, "max": 10, "scaled": 1.0}
    assert passed["result"]["success"] is True and passed["object"]["id"].startswith("urn:")
    assert failed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/failed"
    assert failed["result"]["score"]["raw"] == 5 and failed["result"]["success"] is False
    assert passed["actor"]["name"] == "Web User"
    puts = lrs.puts

    # A restart finds both sent: nothing goes again.
    later = FakeClock(START + timedelta(hours=3))
    bot = await start_training_bot(env, clock=later, slack=fake_slack, connector=fake_connector)
    try:
        await web_pass_exam(bot, "web-user-6")
        await later.advance(seconds=60)
        await lrs.wait_for(lambda s: len(s.statements) == 3)
    finally:
        await stop_bot(bot)
    assert lrs.puts == puts + 1
