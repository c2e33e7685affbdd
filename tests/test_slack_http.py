"""Slack over HTTP: signed requests to /slack/events against a fake Web API."""

from __future__ import annotations

import time

from tests.support import slash_command_body


async def test_help_slash_command_replies_privately(running, fake_slack):
    resp = await running.slash("/secbot", "help")
    assert resp.status == 200
    replies = await fake_slack.wait_for(lambda s: s.responses())
    body = replies[0]
    assert body["response_type"] == "ephemeral"
    assert "What I can do" in body["text"]
    assert any(b["type"] == "section" for b in body["blocks"])
    assert "/help" in body["text"]


async def test_bad_signature_is_refused(running, fake_slack):
    body = slash_command_body("/secbot", "help")
    resp = await running.slack_post(body, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    assert resp.status == 401
    assert fake_slack.responses() == []


async def test_six_minute_old_timestamp_is_refused(running, fake_slack):
    body = slash_command_body("/secbot", "help")
    resp = await running.slack_post(body, timestamp=int(time.time()) - 360)
    assert resp.status == 401
    assert fake_slack.responses() == []


async def test_unknown_command_points_to_help(running, fake_slack):
    await running.slash("/secbot", "frobnicate")
    replies = await fake_slack.wait_for(lambda s: s.responses())
    assert "Type help" in replies[0]["text"]
    assert replies[0]["response_type"] == "ephemeral"


async def test_retried_slash_command_has_no_second_effect(running, fake_slack):
    body = slash_command_body(
        "/secbot", "help", response_url=fake_slack.response_url(), trigger_id="123.same"
    )
    first = await running.slack_post(body)
    await fake_slack.wait_for(lambda s: s.responses())
    retry = await running.slack_post(
        body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert first.status == retry.status == 200
    await running.slash("/secbot", "help")  # a fresh command still works: a barrier
    await fake_slack.wait_for(lambda s: len(s.responses()) >= 2)
    assert len(fake_slack.responses()) == 2


async def test_start_up_logs_no_bolt_token_warning(slack_env, monkeypatch, caplog):
    """Bolt warns when given both a client and SLACK_BOT_TOKEN; we configure its own client."""
    from tests.support import start_bot, stop_bot

    monkeypatch.setenv("SLACK_BOT_TOKEN", slack_env["SLACK_BOT_TOKEN"])
    with caplog.at_level("WARNING"):
        bot = await start_bot(slack_env, content=False)
    try:
        assert not [r for r in caplog.records if r.name.startswith("slack_bolt")]
        from app import SERVICES

        client = bot.app[SERVICES].transports["slack"].client
        assert client.base_url == slack_env["SLACK_API_URL"]
    finally:
        await stop_bot(bot)
