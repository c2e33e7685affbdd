"""Slack's Web API client as secbot configures it: base URL, session, 429 retries,
and what Slack's error codes mean for a delivery."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import WORKSPACE, DeliveryFailed
from bot.retry import SLACK_RATE_LIMIT, RetryPolicy

# Errors about one conversation: that channel is gone, or the bot is not in it.
GONE = {
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "access_denied",
}
# Errors about the app's access to the whole workspace: its token was revoked or belongs
# to a deactivated install, or it lacks a permission. Every channel there would fail the
# same way, so delivery to the workspace pauses (bot/core/workspace_pause.py).
WORKSPACE_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "missing_scope",
    "org_login_required",
    "team_access_not_granted",
    "ekm_access_denied",
}


class SlackRateLimitRetry(AsyncRetryHandler):
    """slack_sdk asks this after a 429: wait as :data:`bot.retry.SLACK_RATE_LIMIT` says
    (never sooner than Retry-After) and try again, three times at most."""

    def __init__(self, policy: RetryPolicy = SLACK_RATE_LIMIT):
        super().__init__(max_retry_count=policy.attempts - 1)
        self.policy = policy

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        return response is not None and response.status_code == 429

    async def prepare_for_next_attempt_async(
        self, *, state, request, response=None, error=None
    ) -> None:
        state.next_attempt_requested = True
        retry_after = None
        if response is not None:
            for name, values in response.headers.items():
                if name.lower() == "retry-after" and values:
                    try:
                        retry_after = float(values[0])
                    except ValueError:
                        retry_after = None
        await asyncio.sleep(self.policy.delay(state.current_attempt + 1, retry_after))
        state.increment_current_attempt()


def configure_client(client: AsyncWebClient, base_url: str) -> AsyncWebClient:
    """Point bolt's own Web API client at ``SLACK_API_URL`` and retry 429s.

    Configuring bolt's client, rather than handing bolt one of ours, avoids bolt's
    start-up warning that the SLACK_BOT_TOKEN variable is being ignored.
    """
    client.base_url = base_url
    client.retry_handlers.append(SlackRateLimitRetry())
    return client


def session_ctx(client: AsyncWebClient):
    """One pooled HTTP session for every Web API and response_url call.

    Without it slack_sdk opens a new session (and connection) per call, which under a
    burst of clicks costs more than the handlers themselves.
    """

    async def ctx(app: web.Application):
        client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        yield
        await client.session.close()
        client.session = None

    return ctx



def failure(e: SlackApiError) -> DeliveryFailed:
    error = str(e.response.get("error", "unknown")) if e.response is not None else "unknown"
    retry_after = None
    if e.response is not None and e.response.status_code == 429:
        retry_after = float(e.response.headers.get("Retry-After", "1") or 1)
    if error in WORKSPACE_ERRORS:
        return DeliveryFailed(error, retry_after=retry_after, scope=WORKSPACE)
    return DeliveryFailed(error, permanent=error in GONE, retry_after=retry_after)
