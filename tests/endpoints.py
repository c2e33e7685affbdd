"""Every HTTP endpoint of the app, in one table, for the hostile-input tests and the fuzzer.

A new route gets one row here; ``test_every_route_is_in_the_table`` fails until it has
one, so nothing is served that hostile input and the fuzzer have not tried. A row says
what the endpoint reads (its ``body`` kind), so the generic hostile cases and the
fuzzer's shape-aware strategies know what to send, and ``headers`` lets a door that
needs credentials (a bearer token, say) give the fuzzer what gets a request past them.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
import yarl

from tests.fakes.botframework import sign_token
from tests.fakes.pagerduty import WEBHOOK_SECRET
from tests.support import RunningBot

# What an endpoint reads from a request.
JSON = "json"  # a JSON body (Teams activities, web chat sends)
SLACK = "slack"  # a Slack-signed form or JSON body
SIGNED = "signed"  # a JSON body signed over its raw bytes (webhooks from paging tools)
QUERY = "query"  # only its query string
NOTHING = "nothing"  # nothing at all (pages, static files, health)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    body: str
    # Headers that get a request past the door's authentication, if it has any.
    headers: Callable[[RunningBot], dict[str, str]] = field(default=lambda bot: {})
    # Share of the fuzzer's generated requests (weights; see test_fuzz_endpoints).
    weight: int = 1
    # For a SIGNED body: the headers that sign these exact bytes, as the caller would.
    sign: Callable[[bytes], dict[str, str]] | None = None


def signed_in(bot: RunningBot) -> dict[str, str]:
    """The web chat's sign-in (a user's secret as a bearer token)."""
    return bot.web_headers(FUZZ_USER)


FUZZ_USER = "web-user-1"


def bot_connector(bot: RunningBot) -> dict[str, str]:
    """A Bot Connector token for the fake connector's serviceUrl (what the fuzzer's
    activities name), when Teams is authenticated; none in development mode."""
    if bot.settings is None or not bot.settings.teams_authenticated or bot.connector is None:
        return {}
    return {"Authorization": f"Bearer {_token(bot.connector.url, bot.settings.microsoft_app_id)}"}


@functools.cache
def _token(service_url: str, app_id: str) -> str:
    return sign_token(service_url, app_id=app_id)  # valid for an hour: one per run will do

# The webhook secrets every test app is given (tests/conftest.py ``slack_env``, the fuzzer).
PAGERDUTY_SECRET = WEBHOOK_SECRET
CALLBACK_SECRET = "paging-callback-secret-0001-xyz"


def pagerduty_signed(body: bytes) -> dict[str, str]:
    return {"X-PagerDuty-Signature": "v1=" + hmac.new(
        PAGERDUTY_SECRET.encode(), body, hashlib.sha256).hexdigest()}  # fmt: skip


def callback_signed(body: bytes) -> dict[str, str]:
    return {"X-Secbot-Signature": "sha256=" + hmac.new(
        CALLBACK_SECRET.encode(), body, hashlib.sha256).hexdigest()}  # fmt: skip


ENDPOINTS: list[Endpoint] = [
    Endpoint("slack events", "POST", "/slack/events", SLACK, weight=4),
    Endpoint("teams activities", "POST", "/api/messages", JSON, bot_connector, weight=3),
    Endpoint("web chat send", "POST", "/webchat/api/send", JSON, signed_in, weight=3),
    Endpoint("web chat messages", "GET", "/webchat/api/messages", QUERY, signed_in, weight=2),
    Endpoint("web chat whoami", "GET", "/webchat/api/whoami", NOTHING, signed_in),
    Endpoint("web chat page", "GET", "/", NOTHING),
    Endpoint("web chat script", "GET", "/webchat/static/app.js", NOTHING),
    Endpoint("web chat styles", "GET", "/webchat/static/app.css", NOTHING),
    Endpoint("privacy notice", "GET", "/privacy", NOTHING),
    Endpoint("terms of use", "GET", "/terms", NOTHING),
    Endpoint("liveness", "GET", "/healthz", NOTHING),
    Endpoint("readiness", "GET", "/readyz", NOTHING),
    Endpoint("pagerduty webhooks", "POST", "/webhooks/pagerduty", SIGNED, sign=pagerduty_signed),
    Endpoint("paging callback", "POST", "/webhooks/paging", SIGNED, sign=callback_signed),
    Endpoint("metrics", "GET", "/metrics", NOTHING),
]

BODY_ENDPOINTS = [e for e in ENDPOINTS if e.body in (JSON, SLACK, SIGNED)]
JSON_ENDPOINTS = [e for e in ENDPOINTS if e.body in (JSON, SIGNED)]


@dataclass(frozen=True)
class Request:
    """One raw request: anything may be in it, as an attacker would send it."""

    method: str
    path: str
    query: str = ""  # already percent-encoded (or deliberately not)
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


async def send(bot: RunningBot, req: Request) -> tuple[int, str]:
    url = bot.url.rstrip("/") + req.path + ("?" + req.query if req.query else "")
    async with bot.session.request(
        req.method,
        yarl.URL(url, encoded=True),
        headers=list(req.headers),
        data=req.body if req.body or req.method not in ("GET", "HEAD") else None,
        skip_auto_headers=("Content-Type",),
        allow_redirects=False,
    ) as r:
        try:
            text = await r.text(errors="replace")
        except aiohttp.ClientPayloadError:
            text = ""
        return r.status, text
