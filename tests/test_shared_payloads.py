"""Real-format payloads from ../shared/payloads replayed against the app.

Skipped with a reason where ../shared is absent (a user's fresh clone has none);
tests/support.py builds equivalent fixtures for every other test.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode


def _event_body(shared_dir) -> str:
    raw = (shared_dir / "payloads/slack_event_callback_app_mention_retry.http").read_text()
    body = json.loads(raw.split("\n\n", 1)[1])
    body["event"]["text"] = "<@W111> help"
    return json.dumps(body)


async def test_app_mention_event_and_its_retry_answer_once(shared_dir, running, fake_slack):
    body = _event_body(shared_dir)
    first = await running.slack_post(body, content_type="application/json")
    assert first.status == 200
    await fake_slack.wait_for(lambda s: s.api_calls("chat.postEphemeral"))
    retry = await running.slack_post(
        body,
        content_type="application/json",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert retry.status == 200
    await running.slash("/secbot", "help")  # barrier: later work is seen after the retry
    await fake_slack.wait_for(lambda s: s.responses())
    ephemerals = fake_slack.api_calls("chat.postEphemeral")
    assert len(ephemerals) == 1
    assert ephemerals[0]["user"] == "W222" and ephemerals[0]["channel"] == "C111"
    assert "What I can do" in ephemerals[0]["text"]


async def test_block_actions_payload_for_an_unknown_button(shared_dir, running, fake_slack):
    payload = json.loads((shared_dir / "payloads/slack_block_actions.json").read_text())
    payload["response_url"] = fake_slack.response_url()
    resp = await running.slack_post(urlencode({"payload": json.dumps(payload)}))
    assert resp.status == 200
    replies = await fake_slack.wait_for(lambda s: s.responses())
    assert "no longer active" in replies[0]["text"]


async def test_teams_channel_mention_capture(shared_dir, running, fake_connector):
    act = json.loads((shared_dir / "payloads/teams_message_channel_mention.json").read_text())
    act["serviceUrl"] = fake_connector.url
    act["text"] = "<at>Opsdroid Dev</at> help"
    status, _ = await running.teams(act)
    assert status == 202
    sent = await fake_connector.wait_for(lambda s: s.sent())
    # help in a channel is private: it goes to the person's 1:1 chat, created on demand.
    created = fake_connector.named("/v3/conversations")
    assert created and created[0].body["members"][0]["id"] == act["from"]["id"]
    assert "Show what I can do" in json.dumps(sent[-1])


async def test_teams_personal_capture(shared_dir, running, fake_connector):
    act = json.loads((shared_dir / "payloads/teams_message_personal.json").read_text())
    act["serviceUrl"] = fake_connector.url
    act["text"] = "help"
    status, _ = await running.teams(act)
    assert status == 202
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert "Show what I can do" in json.dumps(sent[0])
