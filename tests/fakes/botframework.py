"""A fake Bot Framework login service: the OpenID metadata and the signing keys.

It publishes the public half of a test RSA key (endorsed for ``msteams``) plus a key
endorsed only for Skype, and :func:`sign_token` makes tokens as the Bot Connector
does. Tests point ``SECBOT_BOTFRAMEWORK_OPENID_URL`` at :attr:`FakeBotFramework.metadata_url`.
``hang = True`` makes it accept connections and never answer, ``fail_status`` answer
an error, so a test can watch the bot cope with a dead key endpoint.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.base import FakeServer

TEST_APP_ID = "11111111-2222-3333-4444-555555555555"
ISSUER = "https://api.botframework.com"
KID = "test-signing-key"
SKYPE_KID = "skype-only"

# Generated once per test session: a 2,048-bit key takes a noticeable moment to make.
SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def published_jwk(key: rsa.RSAPrivateKey, kid: str, endorsements: list[str]) -> dict:
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "endorsements": endorsements}


def sign_token(
    service_url: str,
    *,
    app_id: str = TEST_APP_ID,
    key: Any = SIGNING_KEY,
    kid: str | None = KID,
    alg: str = "RS256",
    headers: dict | None = None,
    **claims: Any,
) -> str:
    """A Bot Connector token for ``service_url``; pass a claim as None to leave it out."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": app_id,
        "serviceurl": service_url,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": now + 3600,
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    extra = dict(headers or {})
    if kid is not None:
        extra["kid"] = kid
    if alg.startswith("HS"):
        key = "a-shared-secret-that-is-long-enough-for-hmac"
    elif alg == "none":
        key = None
    return jwt.encode(payload, key, algorithm=alg, headers=extra)


class FakeBotFramework(FakeServer):
    def __init__(self) -> None:
        self.hang = False
        self.fail_status: int | None = None
        self.keys = [
            published_jwk(SIGNING_KEY, KID, ["msteams", "webchat"]),
            published_jwk(OTHER_KEY, SKYPE_KID, ["skype"]),
        ]
        self._never = asyncio.Event()
        super().__init__()

    def routes(self) -> list:
        return [
            web.get("/v1/.well-known/openidconfiguration", self.metadata),
            web.get("/v1/.well-known/keys", self.jwks),
        ]

    @property
    def metadata_url(self) -> str:
        return self.url + "v1/.well-known/openidconfiguration"

    async def _answer(self, request: web.Request, body: dict) -> web.Response:
        await self.record(request)
        if self.hang:
            await self._never.wait()  # until the server closes
            return web.json_response({"error": "stopped"}, status=503)
        if self.fail_status:
            return web.json_response({"error": "unavailable"}, status=self.fail_status)
        return web.json_response(body)

    async def metadata(self, request: web.Request) -> web.Response:
        return await self._answer(
            request,
            {
                "issuer": ISSUER,
                "authorization_endpoint": "https://invalid.example/authorize",
                "jwks_uri": self.url + "v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            },
        )

    async def jwks(self, request: web.Request) -> web.Response:
        return await self._answer(request, {"keys": self.keys})

    async def close(self) -> None:
        self._never.set()  # let hanging handlers finish so the server can stop
        await super().close()

    def fetches(self) -> int:
        return len(self.named("openidconfiguration"))
