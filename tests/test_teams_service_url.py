"""The only serviceUrls the bot calls are ones it can trust.

With an app id, that is the URL a validated Bot Framework token named. Without one
(the Bot Framework Emulator), Teams is served only in development mode, and then only
for loopback serviceUrls. Where the server listens grants nothing, and a conversation
reference kept for proactive posts only ever comes from an activity that passed.
"""

from __future__ import annotations

import json

import pytest

from app import SERVICES
from bot.adapters.teams.store import ConversationStore
from bot.core.model import Message, Place, Section
from tests.fakes.botframework import sign_token
from tests.support import start_bot, stop_bot, teams_activity

CONV = "a:personal-trust"


async def _refs(bot) -> list[tuple[str, str | None]]:
    kept = await ConversationStore(bot.app[SERVICES].db).get(CONV)
    return [] if kept is None else [(json.dumps(kept[0].serialize()), kept[1])]


async def test_teams_without_an_app_id_is_off_outside_development_mode(tmp_path):
    """Listening on 127.0.0.1 used to turn on open Teams: a reverse proxy on the same
    host would have published it to the world."""
    bot = await start_bot(
        {"SECBOT_DB": str(tmp_path / "p.db"), "HOST": "127.0.0.1"}, features=[], content=False
    )
    try:
        act = teams_activity("help", service_url="http://127.0.0.1:9/", personal=True)
        async with bot.session.post(bot.url + "api/messages", json=act) as r:
            assert r.status in (404, 405)
        async with bot.session.get(bot.url + "healthz") as r:
            assert (await r.json())["front_doors"]["teams"] is False
    finally:
        await stop_bot(bot)


@pytest.fixture
async def dev_bot(tmp_path, fake_connector):
    env = {"SECBOT_DB": str(tmp_path / "dev.db"), "SECBOT_MODE": "development"}
    bot = await start_bot(env, connector=fake_connector, content=False)
    yield bot
    await stop_bot(bot)


async def test_development_mode_answers_a_loopback_service_url(dev_bot, fake_connector):
    assert not dev_bot.settings.teams_authenticated
    status, _ = await dev_bot.teams_say("help", personal=True, conversation=CONV)
    assert status == 202
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert "Show what I can do" in str(sent[0])
    assert [trust for _, trust in await _refs(dev_bot)] == ["development"]


@pytest.mark.parametrize(
    "service_url",
    [
        "https://evil.example/",
        "http://10.1.2.3/",
        "http://127.0.0.1@evil.example/",
        "http://localhost.evil.example/",
        "http://[::ffff:8.8.8.8]/",
        "ftp://127.0.0.1/",
        "not a url",
    ],
)
async def test_development_mode_refuses_other_service_urls(dev_bot, fake_connector, service_url):
    act = teams_activity("help", service_url=service_url, personal=True, conversation=CONV)
    status, body = await dev_bot.teams(act)
    assert status == 400 and "loopback" in body["error"]
    assert await _refs(dev_bot) == []
    assert fake_connector.calls == []


async def test_a_refused_activity_never_replaces_a_stored_reference(running, fake_connector):
    """Someone without a token names their own serviceUrl for a known conversation:
    refused, and proactive posts still go to the URL the last valid token named."""
    assert (await running.teams_say("help", personal=True, conversation=CONV))[0] == 202
    await fake_connector.wait_for(lambda s: s.sent())
    evil = teams_activity("help", service_url="https://evil.example/", conversation=CONV)
    for token in (None, sign_token(fake_connector.url), sign_token("https://evil.example/x")):
        headers = {"Authorization": f"Bearer {token}" if token else ""}
        status, _ = await running.teams(evil, headers)
        assert status == 401
    ((ref, trust),) = await _refs(running)
    assert fake_connector.url in ref and "evil" not in ref and trust == "token"

    fake_connector.calls.clear()
    transport = running.app[SERVICES].transports["teams"]
    await transport.post(Place("teams", "tenant-1", CONV), Message("A tip", (Section("A tip"),)))
    (call,) = fake_connector.calls
    assert call.path.startswith(f"/v3/conversations/{CONV}/activities")
