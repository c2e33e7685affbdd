"""Teams with ``MICROSOFT_APP_ID`` set: only a valid Bot Framework token gets in.

Tokens are signed with a test RSA key that a fake Bot Framework login service
(tests/fakes/botframework.py) publishes as Microsoft does: an OpenID metadata document
whose ``jwks_uri`` lists the keys. The bot fetches them over HTTP from the URL in
``SECBOT_BOTFRAMEWORK_OPENID_URL``. Each kind of bad token must be a 401, never a 500,
and a good one must still work end to end.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time

import pytest
from botframework.connector.auth import MicrosoftAppCredentials

from app import SERVICES
from bot.adapters.teams.store import ConversationStore
from tests.conftest import OUTBOUND_TEST_TOKEN
from tests.fakes.botframework import (
    OTHER_KEY,
    SKYPE_KID,
    TEST_APP_ID,
    FakeBotFramework,
    sign_token,
)
from tests.support import TEAMS_TEST_ENV, eventually, start_bot, stop_bot, teams_activity


@pytest.fixture
async def authed(tmp_path, fake_connector, botframework):
    env = {
        "SECBOT_DB": str(tmp_path / "auth.db"),
        **TEAMS_TEST_ENV,
        "MICROSOFT_APP_TYPE": "MultiTenant",
        "SECBOT_BOTFRAMEWORK_OPENID_URL": botframework.metadata_url,
    }
    bot = await start_bot(env, connector=fake_connector, content=False, botframework=botframework)
    yield bot
    await stop_bot(bot)


# A card click: its answer is the HTTP response, so it is handled while the request is open.
INVOKE = {"activity_type": "invoke", "invoke_name": "adaptiveCard/action"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw_jwt(header: object, payload: object) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}.c2ln"


async def _send(bot, connector, authorization: str | None, **kw) -> tuple[int, object]:
    act = teams_activity(
        "help", service_url=connector.url, personal=True, conversation="a:p1", **kw
    )
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    async with bot.session.post(
        bot.url + "api/messages", data=json.dumps(act), headers=headers
    ) as r:
        return r.status, await r.text()


async def test_a_valid_token_gets_in_and_the_reply_is_sent(authed, fake_connector, botframework):
    status, _ = await _send(authed, fake_connector, f"Bearer {sign_token(fake_connector.url)}")
    assert status == 202
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert "Show what I can do" in str(sent[0])
    call = next(c for c in fake_connector.calls if "/activities" in c.path)
    assert call.headers["Authorization"] == f"Bearer {OUTBOUND_TEST_TOKEN}"
    # The keys came from the configured login service, over HTTP.
    assert botframework.named("/v1/.well-known/keys")


LIST_HEADER = _b64(b"[1,2]")
NOT_UTF8 = _b64(bytes([0xFF, 0xFE, 0x7B]))


def _future() -> int:
    return int(time.time()) + 3600


BAD_TOKENS = [
    pytest.param(lambda url: None, id="missing"),
    pytest.param(lambda url: "", id="empty"),
    pytest.param(lambda url: "Bearer", id="bearer-only"),
    pytest.param(lambda url: f"Basic {sign_token(url)}", id="wrong-scheme"),
    pytest.param(lambda url: "Bearer not-a-jwt", id="garbage"),
    pytest.param(lambda url: "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", id="garbage-jwt"),
    pytest.param(lambda url: "Bearer %%%.!!!.###", id="garbage-base64"),
    pytest.param(lambda url: f"Bearer {LIST_HEADER}.e30.c2ln", id="header-not-object"),
    pytest.param(lambda url: f"Bearer {NOT_UTF8}.e30.c2ln", id="header-not-utf8"),
    pytest.param(lambda url: f"Bearer {sign_token(url, kid=None)}", id="no-kid"),
    pytest.param(lambda url: f"Bearer {sign_token(url, kid='no-such-key')}", id="unknown-kid"),
    pytest.param(
        lambda url: "Bearer " + _raw_jwt({"alg": "RS256", "kid": 7}, {"aud": TEST_APP_ID}),
        id="kid-not-a-string",
    ),
    pytest.param(lambda url: f"Bearer {sign_token(url, alg='none')}", id="alg-none"),
    pytest.param(lambda url: f"Bearer {sign_token(url, alg='HS256')}", id="alg-hs256"),
    pytest.param(lambda url: f"Bearer {sign_token(url, key=OTHER_KEY)}", id="forged-signature"),
    pytest.param(
        lambda url: f"Bearer {sign_token(url, key=OTHER_KEY, kid=SKYPE_KID)}",
        id="key-not-for-teams",
    ),
    pytest.param(
        lambda url: f"Bearer {sign_token(url, exp=int(time.time()) - 3600, iat=None, nbf=None)}",
        id="expired",
    ),
    pytest.param(lambda url: f"Bearer {sign_token(url, nbf=_future())}", id="not-yet-valid"),
    pytest.param(lambda url: f"Bearer {sign_token(url, exp=None)}", id="exp-missing"),
    pytest.param(lambda url: f"Bearer {sign_token(url, exp='tomorrow')}", id="exp-a-string"),
    pytest.param(lambda url: f"Bearer {sign_token(url, iss='https://evil.example')}", id="iss"),
    pytest.param(lambda url: f"Bearer {sign_token(url, iss=None)}", id="iss-missing"),
    pytest.param(lambda url: f"Bearer {sign_token(url, aud='another-bot')}", id="aud-wrong"),
    pytest.param(lambda url: f"Bearer {sign_token(url, aud=None)}", id="aud-missing"),
    pytest.param(
        lambda url: f"Bearer {sign_token(url, aud=[TEST_APP_ID, 'another-bot'])}", id="aud-list"
    ),
    pytest.param(lambda url: f"Bearer {sign_token(None)}", id="serviceurl-missing"),
    pytest.param(lambda url: f"Bearer {sign_token('https://evil.example/')}", id="serviceurl"),
    pytest.param(lambda url: f"Bearer {sign_token(url + 'x')}", id="serviceurl-longer"),
    pytest.param(
        lambda url: f"Bearer {sign_token(url, headers={'pad': 'x' * 4000})}", id="huge-header"
    ),
]


@pytest.mark.parametrize("bad", BAD_TOKENS)
async def test_a_bad_token_is_401_and_nothing_is_sent_or_stored(
    authed, fake_connector, bad, caplog
):
    caplog.set_level(logging.INFO)
    status, _ = await _send(authed, fake_connector, bad(fake_connector.url))
    assert status == 401
    assert fake_connector.calls == []
    assert await ConversationStore(authed.app[SERVICES].db).get("a:p1") is None
    assert "Traceback" not in caplog.text


async def test_a_token_bigger_than_any_header_is_refused_not_500(authed, fake_connector):
    status, _ = await _send(
        authed,
        fake_connector,
        f"Bearer {sign_token(fake_connector.url, headers={'pad': 'x' * 20000})}",
    )
    assert status in (400, 401, 431)


async def test_the_activity_must_name_a_channel_the_key_is_endorsed_for(authed, fake_connector):
    act = teams_activity("help", service_url=fake_connector.url, personal=True)
    act["channelId"] = "skype"
    status, _ = await authed.teams(act)
    assert status == 401
    del act["channelId"]
    status, _ = await authed.teams(act)
    assert status == 401
    assert fake_connector.calls == []


async def test_single_tenant_accepts_its_tenant_issuer(tmp_path, fake_connector, botframework):
    tenant = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    env = {
        "SECBOT_DB": str(tmp_path / "st.db"),
        **TEAMS_TEST_ENV,
        "MICROSOFT_APP_TYPE": "SingleTenant",
        "MICROSOFT_APP_TENANT_ID": tenant,
        "SECBOT_BOTFRAMEWORK_OPENID_URL": botframework.metadata_url,
    }
    bot = await start_bot(env, connector=fake_connector, content=False, botframework=botframework)
    try:
        url = fake_connector.url
        issuer = f"https://login.microsoftonline.com/{tenant}/v2.0"
        assert (await _send(bot, fake_connector, f"Bearer {sign_token(url, iss=issuer)}"))[0] == 202
        other = "https://login.microsoftonline.com/another-tenant/v2.0"
        assert (await _send(bot, fake_connector, f"Bearer {sign_token(url, iss=other)}"))[0] == 401
    finally:
        await stop_bot(bot)


async def test_a_bug_after_authentication_is_not_hidden_as_401(authed, fake_connector):
    """Only authentication problems are 401: an error raised while handling an
    authenticated activity is a bug, so it stays a 500 and is logged."""
    route = next(r for r in authed.app.router.routes() if r.resource.canonical == "/api/messages")
    front_door = route.handler.__self__

    async def broken(*args, **kwargs):
        raise IndexError("a bug in the bot, not a token problem")

    front_door.adapter.process_activity = broken
    # An invoke is handled while the request is open (a message is kept and answered
    # 202 first: tests/test_teams_intake.py covers a failure after that).
    status, _ = await _send(
        authed, fake_connector, f"Bearer {sign_token(fake_connector.url)}", **INVOKE
    )
    assert status == 500


async def test_an_erroring_key_endpoint_is_503_and_not_hammered(
    tmp_path, fake_connector, botframework
):
    botframework.fail_status = 500
    env = {
        "SECBOT_DB": str(tmp_path / "e.db"),
        **TEAMS_TEST_ENV,
        "SECBOT_BOTFRAMEWORK_OPENID_URL": botframework.metadata_url,
    }
    bot = await start_bot(env, connector=fake_connector, content=False, botframework=botframework)
    try:
        for _ in range(3):
            status, body = await bot.teams_say("help", personal=True)
            assert status == 503 and "can't be checked" in body["error"]
        # One fetch at start-up (and perhaps one more if a request came first): the
        # failure is remembered, so three requests don't mean three more fetches.
        assert botframework.fetches() <= 2
        assert fake_connector.calls == []
    finally:
        await stop_bot(bot)


async def test_a_hanging_key_endpoint_gives_teams_503_while_other_doors_carry_on(
    tmp_path, slack_env, fake_slack, fake_connector, content_library
):
    """The key endpoint accepts the connection and never answers. Teams requests get a
    503 with Retry-After once the fetch times out; meanwhile /healthz, Slack and the web
    chat answer as usual, because nothing waits for the keys on the event loop."""
    hanging = await FakeBotFramework().start()
    hanging.hang = True
    env = {
        **slack_env,
        **TEAMS_TEST_ENV,
        "SECBOT_BOTFRAMEWORK_OPENID_URL": hanging.metadata_url,
        "SECBOT_BOTFRAMEWORK_KEYS_TIMEOUT": "2",
    }
    bot = await start_bot(
        env,
        slack=fake_slack,
        connector=fake_connector,
        content=content_library,
        botframework=hanging,
    )
    try:
        teams = asyncio.create_task(bot.teams_say("help", personal=True))
        await hanging.wait_for(lambda s: s.fetches() >= 1)  # a key fetch is hanging now
        async with bot.session.get(bot.url + "healthz") as r:
            assert r.status == 200
        r = await bot.slash("/quiz", "help")
        assert r.status == 200
        status, _ = await bot.web_send(text="help")
        assert status == 200
        status, body = await teams
        assert status == 503
        assert "can't be checked" in body["error"]
        # The negative cache: the next request is answered at once, with no new fetch.
        fetches = hanging.fetches()
        act = teams_activity("help", service_url=fake_connector.url, personal=True)
        async with bot.session.post(
            bot.url + "api/messages",
            json=act,
            headers={"Authorization": f"Bearer {sign_token(fake_connector.url)}"},
        ) as r:
            assert r.status == 503 and int(r.headers["Retry-After"]) > 0
        assert hanging.fetches() == fetches
        assert fake_connector.calls == []
    finally:
        await stop_bot(bot)
        await hanging.close()


async def test_the_outbound_token_is_fetched_off_the_event_loop(
    authed, fake_connector, monkeypatch
):
    """msal fetches the bot's own token with blocking calls: they must run in a worker
    thread, so a slow Entra ID holds up that one reply and nothing else."""
    loop_thread = threading.get_ident()
    release = threading.Event()
    callers: list[int] = []

    def slow_entra_id(self, force_refresh: bool = False) -> str:
        callers.append(threading.get_ident())
        release.wait(10)
        return "slow-token"

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", slow_entra_id)
    teams = asyncio.create_task(
        _send(authed, fake_connector, f"Bearer {sign_token(fake_connector.url)}")
    )
    try:
        await eventually(lambda: callers)
        async with authed.session.get(authed.url + "healthz") as r:
            assert r.status == 200
    finally:
        release.set()
    status, _ = await teams
    assert status == 202
    sent = await fake_connector.wait_for(lambda s: [c for c in s.calls if "/activities" in c.path])
    assert sent[0].headers["Authorization"] == "Bearer slow-token"
    assert callers and loop_thread not in callers


async def test_entra_id_refusing_the_bot_is_503_not_500(authed, fake_connector, monkeypatch):
    def refused(self, force_refresh: bool = False) -> str:
        raise PermissionError("AADSTS7000215: Invalid client secret provided")

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", refused)
    status, body = await _send(
        authed, fake_connector, f"Bearer {sign_token(fake_connector.url)}", **INVOKE
    )
    assert status == 503 and "sign in" in body
    assert fake_connector.calls == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECBOT_BOTFRAMEWORK_OPENID_URL", "login.botframework.com/v1/.well-known/x"),
        ("SECBOT_BOTFRAMEWORK_KEYS_TIMEOUT", "nan"),
        ("SECBOT_BOTFRAMEWORK_KEYS_TIMEOUT", "0"),
        ("SECBOT_BOTFRAMEWORK_KEYS_TIMEOUT", "soon"),
    ],
)
def test_bad_key_settings_stop_start_up_with_one_line(tmp_path, name, value):
    from app import create_app
    from bot.settings import ConfigError, load_settings

    env = {"SECBOT_DB": str(tmp_path / "c.db"), **TEAMS_TEST_ENV, name: value}
    with pytest.raises(ConfigError, match=name):
        create_app(load_settings(env, env_file=None), features=[], content=False)


@pytest.mark.parametrize("channel", ["webchat", "directline", "emulator", "MSTEAMS"])
async def test_only_the_teams_channel_is_served_even_with_a_valid_token(
    running, fake_connector, channel, caplog
):
    """Microsoft's keys are endorsed for the Azure Bot's other channels too (Web Chat and
    Direct Line are on by default), where the client chooses ``from`` and ``channelData``:
    a valid token for such a channel must not let someone pose as a Teams admin of any
    tenant. Only ``msteams`` is served when Teams is authenticated."""
    act = teams_activity(
        "compromised status", service_url=fake_connector.url, personal=True,
        aad="aad-admin", tenant="tenant-1",
    )  # fmt: skip
    act["channelId"] = channel
    status, body = await running.teams(act, handled=False)
    if channel == "webchat":  # the fake's key is endorsed for it, as Microsoft's are
        assert status == 403, (status, body)
        assert "Teams only" in body["error"]
    else:  # no key is endorsed for these here: refused before the channel is looked at
        assert status == 401, (status, body)
    # A real Teams activity still gets in and is answered; the other never was.
    act["channelId"] = "msteams"
    status, _ = await running.teams(act)
    assert status == 202
    assert len(fake_connector.sent()) == 1
    assert "compromised status" not in caplog.text
