"""What the Slack consumer does with each kept delivery: handled ones are removed, ones
bolt stopped before any listener are tried again, ones a handler left half done stay
kept for the next start, and bolt still routes every kind of delivery it used to."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from bot.adapters.slack import intake as slack_intake
from bot.retry import RetryPolicy
from bot.storage.inbox import RAW, Inbox
from tests.support import (
    eventually,
    kept_slack,
    ready_db,
    slash_command_body,
    start_bot,
    stop_bot,
)


@pytest.fixture
def quick_retries(monkeypatch):
    quick = RetryPolicy(first=0.05, maximum=0.2, jitter=(1.0, 1.0), attempts=4)  # 0.05, 0.1, 0.2
    monkeypatch.setattr(slack_intake, "REDELIVERY", quick)


def _intake(bot):
    from app import SERVICES

    return bot.app[SERVICES].slack_intake


def _event(event: dict, event_id: str) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T111",
            "api_app_id": "A111",
            "event_id": event_id,
            "event_time": 1,
            "event": event,
        }
    )


async def test_a_delivery_bolt_stopped_before_any_listener_is_tried_again(
    running, fake_slack, quick_retries
):
    """auth.test failing makes bolt answer without running a listener. Slack already has
    its 200, so the delivery stays kept and is tried again once Slack answers again."""
    fake_slack.method_errors["auth.test"] = "fatal_error"
    resp = await running.slack_post(
        slash_command_body(
            "/secbot", "help", response_url=fake_slack.response_url("a1"), trigger_id="auth.1"
        )
    )
    assert resp.status == 200
    await fake_slack.wait_for(lambda s: s.api_calls("auth.test"))
    assert len(kept_slack(running.settings.db_path)) == 1
    del fake_slack.method_errors["auth.test"]
    replies = await fake_slack.wait_for(lambda s: s.responses())
    assert "What I can do" in replies[0]["text"]
    await eventually(lambda: not kept_slack(running.settings.db_path))


async def test_a_handler_that_fails_half_way_leaves_its_delivery_kept(running, fake_slack):
    """Posting the question and the apology both fail: the handler may have done part of
    its work, so it is not retried now, but kept for the next start, as before."""
    intake = _intake(running)
    fake_slack.method_errors["chat.postMessage"] = "internal_error"
    fake_slack.method_errors["chat.postEphemeral"] = "internal_error"
    resp = await running.slack_post(
        slash_command_body("/quiz", "", channel="CQ9", response_url="", trigger_id="raise.1")
    )
    assert resp.status == 200
    await eventually(lambda: intake.handled >= 1)
    assert len(kept_slack(running.settings.db_path)) == 1


async def test_deliveries_left_by_a_crash_survive_a_failed_auth_test_at_start_up(
    slack_env, fake_slack, fake_connector, quick_retries
):
    first = await start_bot(slack_env, slack=fake_slack, connector=fake_connector, content=False)
    await stop_bot(first)
    db = await ready_db(slack_env["SECBOT_DB"])
    body = slash_command_body(
        "/secbot", "help", response_url=fake_slack.response_url("crash"), trigger_id="crash.1"
    )
    await Inbox(db).add_raw("slack", RAW, body, datetime.now(UTC))
    await db.close()
    fake_slack.method_errors["auth.test"] = "fatal_error"
    second = await start_bot(slack_env, slack=fake_slack, connector=fake_connector, content=False)
    try:
        await fake_slack.wait_for(lambda s: s.api_calls("auth.test"))
        del fake_slack.method_errors["auth.test"]
        replies = await fake_slack.wait_for(lambda s: s.responses())
        assert "What I can do" in replies[0]["text"]
    finally:
        await stop_bot(second)
    assert kept_slack(slack_env["SECBOT_DB"]) == []


async def test_an_unsigned_body_that_is_not_utf8_is_refused(running, fake_slack):
    async with running.session.post(
        running.url + "slack/events",
        data=b"payload=\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ) as r:
        assert r.status == 401
    assert kept_slack(running.settings.db_path) == []


async def test_a_view_submission_reaches_the_core(running, fake_slack):
    payload = {
        "type": "view_submission",
        "team": {"id": "T111"},
        "user": {"id": "U1", "name": "u1", "team_id": "T111"},
        "api_app_id": "A111",
        "trigger_id": "t.v1",
        "view": {
            "id": "V1",
            "hash": "h1",
            "callback_id": "nothing:here",
            "private_metadata": json.dumps({"channel": "C1"}),
            "state": {"values": {}},
            "type": "modal",
        },
    }
    resp = await running.slack_post(urlencode({"payload": json.dumps(payload)}))
    assert resp.status == 200
    await fake_slack.wait_for(lambda s: s.api_calls("chat.postEphemeral"))
    await eventually(lambda: not kept_slack(running.settings.db_path))


async def test_direct_messages_are_answered_and_channel_and_bot_posts_ignored(running, fake_slack):
    intake = _intake(running)
    base = {"type": "message", "text": "help"}
    ignored = [
        {**base, "channel": "C1", "channel_type": "channel", "user": "U1", "ts": "1.1"},
        {**base, "channel": "D1", "channel_type": "im", "bot_id": "B1", "ts": "1.2"},
        {"type": "message", "subtype": "message_changed", "channel": "D1", "channel_type": "im"},
    ]
    for i, event in enumerate(ignored):
        resp = await running.slack_post(_event(event, f"Ev{i}"), content_type="application/json")
        assert resp.status == 200
    await eventually(lambda: intake.handled >= 3)
    assert kept_slack(running.settings.db_path) == []  # nothing to do, nothing left kept
    assert fake_slack.api_calls("chat.postMessage") == []
    dm = {**base, "channel": "D1", "channel_type": "im", "user": "U1", "ts": "1.4"}
    resp = await running.slack_post(_event(dm, "Ev9"), content_type="application/json")
    assert resp.status == 200
    posted = await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"))
    assert posted[0]["channel"] == "D1"


async def test_acknowledging_comes_first_only_while_the_queue_is_young(running, slack_env):
    """The consumer yields to the door while the oldest waiting delivery is younger than
    SECBOT_SLACK_DEFER_SECONDS (10 by default); 0 turns that priority off."""
    from datetime import timedelta

    intake = _intake(running)
    now = datetime.now(UTC)
    assert not intake.behind(now)
    assert not intake.behind(now - timedelta(seconds=9))
    assert intake.behind(now - timedelta(seconds=11))
    no_priority = await start_bot({**slack_env, "SECBOT_SLACK_DEFER_SECONDS": "0"}, content=False)
    try:
        assert _intake(no_priority).behind(datetime.now(UTC))
    finally:
        await stop_bot(no_priority)


async def test_a_pending_retry_does_not_hold_up_a_shutdown(
    running, fake_slack, monkeypatch, caplog
):
    """A delivery waiting an hour to be tried again stays kept, and stopping ends the wait
    rather than running into the shutdown's drain limit (which would cancel it)."""
    hour = RetryPolicy(first=3600.0, maximum=3600.0, jitter=(1.0, 1.0), attempts=2)
    monkeypatch.setattr(slack_intake, "REDELIVERY", hour)
    fake_slack.method_errors["auth.test"] = "fatal_error"
    await running.slack_post(slash_command_body("/secbot", "help", trigger_id="stop.1"))
    await fake_slack.wait_for(lambda s: s.api_calls("auth.test"))
    await eventually(lambda: _intake(running).handled >= 1)
    with caplog.at_level("WARNING", logger="bot.tasks"):
        await running.runner.cleanup()
    assert not [r for r in caplog.records if "cancelled" in r.getMessage()]
    assert len(kept_slack(running.settings.db_path)) == 1
