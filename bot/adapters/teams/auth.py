"""Who may knock on the Teams door: Bot Framework tokens, checked without blocking.

botframework-connector fetches Microsoft's signing keys with the blocking ``requests``
library on the event loop, so one slow key endpoint froze every front door (Slack, the
web chat, ``/healthz``). Here the OpenID metadata and its ``jwks_uri`` are fetched with
aiohttp under a time limit, kept, refreshed in the background (Microsoft rotates its
keys), and a failed fetch is not retried for a short while, so a dead endpoint costs one
request every ``retry_after`` seconds instead of one per incoming activity.

The token is checked as the Bot Framework specifies ("Authentication with the Bot
Connector service"): RS256 only, the key found by ``kid`` and endorsed for the
activity's channel, issuer ``https://api.botframework.com`` (plus the tenant's issuers
for a SingleTenant bot), audience our app id, ``exp``/``nbf`` with a small leeway, and
the ``serviceurl`` claim equal to the activity's ``serviceUrl`` -- the only URL the bot
will then call with its own credentials.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

from bot.settings import is_loopback
from bot.workers import Worker

log = logging.getLogger(__name__)

CHANNEL_ISSUER = "https://api.botframework.com"
# The tenant's own issuers, accepted for a SingleTenant bot (as botframework-connector's
# AuthenticationConfiguration.add_tenant_issuers does).
TENANT_ISSUERS = (
    "https://sts.windows.net/{0}/",
    "https://login.microsoftonline.com/{0}/v2.0",
    "https://login.microsoftonline.us/{0}/",
    "https://login.microsoftonline.us/{0}/v2.0",
)
LEEWAY_SECONDS = 300  # the Bot Framework's documented clock skew allowance
# Bot Connector tokens are one or two kilobytes, their header a few hundred bytes. Bigger
# is refused before any decoding, so a hostile token costs nothing to turn away.
MAX_TOKEN_CHARS = 8192
MAX_HEADER_CHARS = 1024
MAX_DOCUMENT_BYTES = 1024 * 1024


class TokenRejected(Exception):
    """The request is not from the Bot Connector: answer 401."""


class KeysUnavailable(Exception):
    """The signing keys can't be had just now: answer 503 and let Teams retry."""

    def __init__(self, retry_after: int):
        super().__init__("the Bot Framework signing keys are unavailable")
        self.retry_after = retry_after


@dataclass(frozen=True)
class SigningKey:
    public_key: Any
    endorsements: frozenset[str]


def _parse_keys(document: Any) -> dict[str, SigningKey]:
    keys: dict[str, SigningKey] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        kid, endorsements = entry.get("kid"), entry.get("endorsements", [])
        if not isinstance(kid, str) or not isinstance(endorsements, list):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(entry))
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        keys[kid] = SigningKey(public_key, frozenset(e for e in endorsements if isinstance(e, str)))
    return keys


class SigningKeys:
    """Microsoft's published signing keys, fetched asynchronously and kept.

    Nothing here raises on a network problem: a failed fetch is logged and remembered
    (the short negative cache), and callers see :class:`KeysUnavailable` only when there
    is no usable key set at all.
    """

    def __init__(
        self,
        metadata_url: str,
        *,
        timeout: float = 5.0,
        refresh_every: float = 24 * 3600,
        retry_after: float = 30.0,
        unknown_key_refresh: float = 300.0,
        max_age: float = 5 * 24 * 3600,
    ):
        self.metadata_url = metadata_url
        self.timeout = timeout
        self.refresh_every = refresh_every
        self.retry_after = retry_after
        self.unknown_key_refresh = unknown_key_refresh
        self.max_age = max_age
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._inflight: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None

    # --- lifecycle: an aiohttp cleanup_ctx keeps the keys fresh in the background -------

    async def run(self, app: Any = None):
        """Fetch at start (without delaying it), then refresh before the keys go stale."""
        self._session = aiohttp.ClientSession()
        worker = Worker("teams-signing-keys", self._refresh_round, every=self.refresh_every)
        worker.start()
        try:
            yield
        finally:
            await worker.stop()
            if self._inflight is not None:
                self._inflight.cancel()
                await asyncio.gather(self._inflight, return_exceptions=True)
            await self._session.close()
            self._session = None

    async def _refresh_round(self) -> float:
        await self.refresh()
        failed = self._failed_at is not None and self._failed_at >= (self._fetched_at or 0)
        return self.retry_after if failed else self.refresh_every

    # --- lookups --------------------------------------------------------------------------

    def _usable(self, now: float) -> dict[str, SigningKey]:
        if self._fetched_at is None or now - self._fetched_at > self.max_age:
            return {}
        return self._keys

    def _may_fetch(self, now: float) -> bool:
        if self._failed_at is not None and now - self._failed_at < self.retry_after:
            return False
        return self._fetched_at is None or now - self._fetched_at >= self.unknown_key_refresh

    async def find(self, kid: str) -> SigningKey:
        now = time.monotonic()
        key = self._usable(now).get(kid)
        if key is None and self._may_fetch(now):
            # A key we don't know may be a freshly rotated one: look once more (rate-limited).
            await self.refresh()
            now = time.monotonic()
            key = self._usable(now).get(kid)
        if key is not None:
            return key
        if self._usable(now):
            raise TokenRejected("the token names a signing key Microsoft does not publish")
        raise KeysUnavailable(int(self.retry_after) or 1)

    async def refresh(self) -> None:
        """Fetch now, sharing one fetch between everyone who asks at the same time."""
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.create_task(self._fetch())
        # Shielded: a caller that gives up (its client went away) doesn't cancel the
        # fetch the others are waiting on. _fetch is bounded by its own timeout.
        await asyncio.shield(self._inflight)

    async def _fetch(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                metadata = await self._get_json(self.metadata_url)
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                if not isinstance(jwks_uri, str) or urlsplit(jwks_uri).scheme not in (
                    "https",
                    "http",
                ):
                    raise ValueError("the OpenID metadata has no jwks_uri")
                keys = _parse_keys(await self._get_json(jwks_uri))
            if not keys:
                raise ValueError("the key set has no usable RSA keys")
        except (aiohttp.ClientError, TimeoutError, ValueError, UnicodeDecodeError) as e:
            self._failed_at = time.monotonic()
            log.warning(
                "teams: can't fetch the Bot Framework signing keys (%s); next try in %ss",
                type(e).__name__,
                int(self.retry_after),
            )
            return
        self._keys, self._fetched_at, self._failed_at = keys, time.monotonic(), None
        log.info("teams: fetched %d Bot Framework signing keys", len(keys))

    async def _get_json(self, url: str) -> Any:
        session = self._session
        if session is None:  # used outside the app's lifetime (a test, a shell)
            raise aiohttp.ClientConnectionError("the key fetcher is not running")
        async with session.get(url, headers={"Accept": "application/json"}) as resp:
            if resp.status != 200:
                raise aiohttp.ClientResponseError(
                    resp.request_info, resp.history, status=resp.status
                )
            body = await resp.content.read(MAX_DOCUMENT_BYTES + 1)
            if len(body) > MAX_DOCUMENT_BYTES:
                raise ValueError("the document is too large")
            return json.loads(body.decode("utf-8"))


class TokenValidator:
    """Checks the ``Authorization`` header of one activity; returns the token's claims."""

    def __init__(self, keys: SigningKeys, app_id: str, tenant_id: str | None = None):
        self.keys = keys
        self.app_id = app_id
        issuers = [CHANNEL_ISSUER]
        if tenant_id:
            issuers += [template.format(tenant_id) for template in TENANT_ISSUERS]
        self.issuers = tuple(issuers)

    async def validate(
        self, authorization: str | None, channel_id: str | None, service_url: str | None
    ) -> dict[str, Any]:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme != "Bearer" or not token:
            raise TokenRejected("no bearer token")
        if len(token) > MAX_TOKEN_CHARS or len(token.partition(".")[0]) > MAX_HEADER_CHARS:
            raise TokenRejected("the token is too long")
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, ValueError, TypeError) as e:
            raise TokenRejected("the token is not a JWT") from e
        if header.get("alg") != "RS256":
            raise TokenRejected("the token is not signed with RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("the token names no signing key")
        if not channel_id or not isinstance(channel_id, str):
            raise TokenRejected("the activity names no channel")
        key = await self.keys.find(kid)  # KeysUnavailable goes up: a 503, not a 401
        if channel_id not in key.endorsements:
            raise TokenRejected("the signing key is not endorsed for this channel")
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=self.issuers,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"], "strict_aud": True},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as e:
            raise TokenRejected(f"the token is not valid ({type(e).__name__})") from e
        claimed = claims.get("serviceurl")
        if not isinstance(claimed, str) or not service_url or claimed != service_url:
            raise TokenRejected("the token was not issued for this serviceUrl")
        return claims


def is_loopback_url(url: str | None) -> bool:
    """True for http(s) URLs on this machine only: 127.0.0.0/8, ::1 or localhost."""
    try:
        parts = urlsplit(url or "")
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host) and is_loopback(host or "")
