"""Slack Socket Mode: the bot connects out to a (fake) Socket Mode websocket and answers."""

from __future__ import annotations

from tests.support import start_bot, stop_bot


async def test_socket_mode_answers_a_slash_command_envelope(slack_env, fake_slack, fake_connector):
    env = {**slack_env, "SLACK_APP_TOKEN": "xapp-1-test"}
    bot = await start_bot(env, slack=fake_slack, connector=fake_connector, content=False)
    try:
        await fake_slack.socket_connected.wait()
        opened = fake_slack.api_calls("apps.connections.open")
        assert len(opened) == 1
        envelope = {
            "envelope_id": "env-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "token": "unused",
                "team_id": "T111",
                "team_domain": "gov",
                "channel_id": "C111",
                "channel_name": "general",
                "user_id": "U111",
                "user_name": "alex",
                "command": "/secbot",
                "text": "help",
                "api_app_id": "A111",
                "response_url": fake_slack.response_url(),
                "trigger_id": "sm.1",
            },
        }
        await fake_slack.push(envelope)
        acks = await fake_slack.wait_for(
            lambda s: [m for m in s.socket_messages if m.get("envelope_id") == "env-1"]
        )
        assert len(acks) == 1
        replies = await fake_slack.wait_for(lambda s: s.responses())
        assert replies[0]["response_type"] == "ephemeral"
        assert "What I can do" in replies[0]["text"]
        async with bot.session.get(bot.url + "healthz") as r:
            assert (await r.json())["front_doors"]["slack_socket_mode"] is True
    finally:
        await stop_bot(bot)
