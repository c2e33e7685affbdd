"""Exam completions to a learning record store (xAPI), end to end: the exam is taken in
the web chat over HTTP, the fake LRS receives one statement per completion, a refused
send is retried after the policy's delay, and a restart sends nothing twice."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import SERVICES
from bot.core.clock import FakeClock
from bot.storage.sql import execute
from content.quiz.store.tables import quiz_exam_results
from content.training.tables import xapi_outbox
from tests.fakes.lrs import FakeLrs
from tests.quiz_support import LIBRARY, START
from tests.support import start_bot, stop_bot
from tests.test_incident_people import named_web_users
from tests.test_people_rights_web import ADMIN, attachment, pick, say
from tests.training_support import FEATURES, start_training_bot, web_pass_exam


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


async def test_erasing_someone_whose_exam_reached_the_lrs(
    env, lrs, fake_slack, fake_connector, tmp_path
):
    """The statement kept for the learning record store names the person, and points at
    their exam result: an export shows it, and erasure deletes it with the result (before
    it, so the erasure is not refused and rolled back)."""
    env = {**env, "SECBOT_WEBCHAT_USERS_FILE": str(named_web_users(tmp_path))}
    clock = FakeClock(START)
    bot = await start_bot(
        env, clock=clock, slack=fake_slack, connector=fake_connector,
        features=[*FEATURES, "bot.audit.command", "bot.privacy.command"], content=LIBRARY,
    )  # fmt: skip
    try:
        await web_pass_exam(bot, "web-reporter")
        await web_pass_exam(bot, "web-team")
        await clock.advance(seconds=60)
        await lrs.wait_for(lambda s: len(s.statements) == 2)

        messages = await say(bot, ADMIN, "export-person")
        messages = await pick(bot, ADMIN, messages, "web-reporter")
        tables = json.loads(attachment(messages, ".json")[1])["tables"]
        (kept,) = tables["xapi_outbox"]["rows"]
        (result,) = tables["quiz_exam_results"]["rows"]
        assert kept["exam_result_id"] == result["id"]
        assert json.loads(kept["statement"])["actor"]["name"] == "Rosa Reporter"
        assert tables["xapi_outbox"]["on_erasure"] == "deleted"

        messages = await say(bot, ADMIN, "erase-person")
        messages = await pick(bot, ADMIN, messages, "web-reporter")
        confirm = messages[-1]
        assert "1 × exam results for the learning record store: deleted" in confirm["text"]
        act = {"action_id": "rights:confirm", "value": "web-reporter",
               "message_id": str(confirm["id"])}  # fmt: skip
        status, body = await bot.web_send(user=ADMIN, action=act, conversation="dm")
        assert status == 200 and body["ok"], body
        done = await bot.web_messages(user=ADMIN, conversation="dm")
        assert next(m for m in done if m["id"] == confirm["id"])["text"].startswith("Erased.")

        db = bot.app[SERVICES].db
        statements = [r.statement for r in (await execute(db, select(xapi_outbox))).all()]
        (left,) = statements  # Priya's only
        assert "Priya Shah" in left and not any("Rosa" in s for s in statements)
        takers = (await execute(db, select(quiz_exam_results.c.user_key))).scalars().all()
        assert takers == ["web:web-team"]
    finally:
        await stop_bot(bot)
