"""Teams with ``MICROSOFT_APP_ID`` set: only a valid Bot Framework token gets in.

Tokens are signed here with a test RSA key that stands in for Microsoft's published
signing keys (botframework-connector's key cache is primed with it, so nothing is
fetched from the internet). Each kind of bad token must be a 401, never a 500, and
a good one must still work end to end.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import jwt
import pytest
from botframework.connector.auth import AuthenticationConstants, MicrosoftAppCredentials
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdMetadata
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.support import start_bot, stop_bot, teams_activity

APP_ID = "11111111-2222-3333-4444-555555555555"
ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
METADATA_URL = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
KID = "test-signing-key"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SIGNING_KEY = _key()
OTHER_KEY = _key()


@pytest.fixture
def published_keys(monkeypatch):
    """Microsoft's key set, as the bot would have fetched it, holding our test key."""
    jwk = RSAAlgorithm.to_jwk(SIGNING_KEY.public_key(), as_dict=True)
    metadata = _OpenIdMetadata(METADATA_URL)
    other = RSAAlgorithm.to_jwk(OTHER_KEY.public_key(), as_dict=True)
    metadata.keys = [
        {**jwk, "kid": KID, "use": "sig", "endorsements": ["msteams"]},
        {**other, "kid": "skype-only", "use": "sig", "endorsements": ["skype"]},
    ]
    metadata.last_updated = datetime.now()
    monkeypatch.setitem(JwtTokenExtractor.metadataCache, METADATA_URL, metadata)

    def no_network(self, force_refresh: bool = False) -> str:
        return "outbound-test-token"

    # Replies need an outbound token from Entra ID; the fake connector accepts any.
    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", no_network)


@pytest.fixture
async def authed(tmp_path, fake_connector, published_keys):
    env = {
        "SECBOT_DB": str(tmp_path / "auth.db"),
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": "secret",
        "MICROSOFT_APP_TYPE": "MultiTenant",
    }
    bot = await start_bot(env, connector=fake_connector, content=False)
    yield bot
    await stop_bot(bot)


def token(service_url: str, *, key: Any = SIGNING_KEY, kid=KID, alg="RS256", **claims) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": now + 3600,
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    if alg.startswith("HS"):
        key = "a-shared-secret-that-is-long-enough-for-hmac"
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


async def _send(bot, connector, bearer: str | None) -> int:
    act = teams_activity("help", service_url=connector.url, personal=True, conversation="a:p1")
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    status, _ = await bot.teams(act, headers)
    return status


async def test_a_valid_token_gets_in_and_the_reply_is_sent(authed, fake_connector):
    assert await _send(authed, fake_connector, token(fake_connector.url)) == 201
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert "Show what I can do" in str(sent[0])
    call = next(c for c in fake_connector.calls if "/activities" in c.path)
    assert call.headers["Authorization"] == "Bearer outbound-test-token"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda url: None, id="missing"),
        pytest.param(lambda url: "", id="empty"),
        pytest.param(lambda url: "not-a-jwt", id="garbage"),
        pytest.param(lambda url: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", id="garbage-jwt"),
        pytest.param(
            lambda url: token(url, exp=int(time.time()) - 3600, iat=None, nbf=None), id="expired"
        ),
        pytest.param(lambda url: token(url, iss="https://evil.example"), id="wrong-issuer"),
        pytest.param(lambda url: token(url, aud="another-bot"), id="wrong-audience"),
        pytest.param(lambda url: token(url, key=OTHER_KEY), id="forged-signature"),
        pytest.param(lambda url: token(url, kid="no-such-key"), id="unknown-key-id"),
        pytest.param(lambda url: token(url, alg="HS256"), id="hmac-algorithm"),
        pytest.param(
            lambda url: token(url, key=OTHER_KEY, kid="skype-only"), id="key-not-for-teams"
        ),
        pytest.param(lambda url: token("https://evil.example/"), id="other-service-url"),
    ],
)
async def test_a_bad_token_is_401_and_nothing_is_sent(authed, fake_connector, bad):
    assert await _send(authed, fake_connector, bad(fake_connector.url)) == 401
    assert fake_connector.calls == []


async def test_a_bug_after_authentication_is_not_hidden_as_401(authed, fake_connector):
    """Only authentication errors are 401: an IndexError raised while handling an
    authenticated activity is a bug, so it stays a 500 and is logged."""
    route = next(r for r in authed.app.router.routes() if r.resource.canonical == "/api/messages")
    front_door = route.handler.__self__

    async def broken(*args, **kwargs):
        raise IndexError("a bug in the bot, not a token problem")

    front_door.adapter.process_activity = broken
    assert await _send(authed, fake_connector, token(fake_connector.url)) == 500


async def test_unreachable_signing_keys_are_503_not_500(authed, fake_connector, monkeypatch):
    async def offline(self, key_id):
        raise ConnectionError("no route to login.botframework.com")

    monkeypatch.setattr(_OpenIdMetadata, "get", offline)
    act = teams_activity("help", service_url=fake_connector.url, personal=True)
    status, body = await authed.teams(act, {"Authorization": f"Bearer {token(fake_connector.url)}"})
    assert status == 503 and "can't be checked" in body["error"]
    assert fake_connector.calls == []
