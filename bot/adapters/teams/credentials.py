"""The bot's own outbound token for the Bot Connector, fetched off the event loop.

botbuilder makes new credentials for every connector client (so every turn and every
proactive post), and msrest asks them for a token synchronously, on the event loop:
msal then discovers the authority and fetches a token from Entra ID with blocking
``requests`` calls. A slow login.microsoftonline.com would have frozen every front door
on each Teams reply. Here one credentials object is kept per app id and scope (so msal's
token cache is reused), its token is fetched in a worker thread under a time limit, and
the connector client gets credentials that only hand over that token.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import requests
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory
from msrest.authentication import Authentication

log = logging.getLogger(__name__)

TOKEN_TIMEOUT_SECONDS = 10.0


class OutboundTokenUnavailable(Exception):
    """Entra ID did not give the bot a token in time (or refused): try again later."""

    retry_after = 30


class TokenInHand(Authentication):
    """Credentials whose token was fetched already: signing a session reads it, never
    fetches. Other attributes (``microsoft_app_id``, ``oauth_scope``) come from the
    credentials it was fetched with, which botbuilder reads in places."""

    def __init__(self, credentials: AppCredentials, token: str | None):
        self._credentials = credentials
        self._token = token

    def __getattr__(self, name: str) -> Any:
        return getattr(self._credentials, name)

    def get_access_token(self, force_refresh: bool = False) -> str | None:
        return self._token

    def signed_session(self, session: requests.Session | None = None) -> requests.Session:
        session = session or requests.Session()
        if self._token:
            session.headers["Authorization"] = f"Bearer {self._token}"
        else:
            session.headers.pop("Authorization", None)
        return session


class NonBlockingCredentialsFactory(ServiceClientCredentialsFactory):
    """Wraps botbuilder's credentials factory (password, certificate or managed identity
    alike: each is an ``AppCredentials`` with a blocking ``get_access_token``)."""

    def __init__(
        self, inner: ServiceClientCredentialsFactory, timeout: float = TOKEN_TIMEOUT_SECONDS
    ):
        self._inner = inner
        self._timeout = timeout
        self._credentials: dict[tuple, Any] = {}
        # One fetch per credentials at a time: a hanging endpoint ties up one worker
        # thread, not one per waiting turn.
        self._inflight: dict[tuple, asyncio.Future] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self._inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self._inner.is_authentication_disabled()

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        key = (app_id, oauth_scope, login_endpoint, validate_authority)
        credentials = self._credentials.get(key)
        if credentials is None:
            credentials = await self._inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
            self._credentials[key] = credentials
        if not app_id or not isinstance(credentials, AppCredentials):
            return credentials  # no app id (development mode): nothing to sign with
        fetch = self._inflight.get(key)
        if fetch is None or fetch.done():
            fetch = asyncio.ensure_future(asyncio.to_thread(credentials.get_access_token))
            # Its outcome is read here even if every caller gave up waiting.
            fetch.add_done_callback(lambda f: f.cancelled() or f.exception())
            self._inflight[key] = fetch
        try:
            token = await asyncio.wait_for(asyncio.shield(fetch), self._timeout)
        except (TimeoutError, PermissionError, OSError, requests.RequestException, ValueError) as e:
            log.warning("teams: no outbound token from Entra ID (%s)", type(e).__name__)
            raise OutboundTokenUnavailable from None
        return TokenInHand(credentials, token)
