"""GOV.UK Notify, shared by the text message and the email provider.

Notify's client is synchronous, so each send runs in a thread. A subclass says who
receives the page (``recipient``) and which Notify call sends it (``deliver``).
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from typing import Any

from incidents.paging import wording
from incidents.paging.providers.base import (
    HTTP_TIMEOUT,
    MissingSetting,
    PageRequest,
    Provider,
    ProviderResult,
)


def _notify_message(e: Any) -> str:
    msg = getattr(e, "message", "")
    if isinstance(msg, list):
        msg = "; ".join(str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in msg)
    return wording.one_line(str(msg), 160)


class NotifyProvider(Provider):
    """A page through GOV.UK Notify; subclasses: text message and email."""

    sms = False  # text messages have their own length limits (wording.personalisation)

    @abstractmethod
    def recipient(self, target: Any) -> str:
        """The phone number or email address on the target (may be ``${SECBOT_…}``)."""

    @abstractmethod
    def deliver(self, client: Any, recipient: str, page: PageRequest, fields: dict) -> Any:
        """Send with Notify's client (in a thread); returns Notify's answer."""

    async def send(self, page: PageRequest) -> ProviderResult:
        from notifications_python_client.errors import APIError, HTTPError, InvalidResponse
        from notifications_python_client.notifications import NotificationsAPIClient

        t = page.target
        try:
            api_key = self.ctx.secret(t.api_key_env)
        except MissingSetting as e:
            return ProviderResult(False, False, f"GOV.UK Notify API key: {e}")
        base = self.ctx.settings.notify_url
        try:
            recipient = self.ctx.resolve(self.recipient(t))
        except MissingSetting as e:
            return ProviderResult(False, False, f"GOV.UK Notify: {e}")
        fields = wording.personalisation(
            page.incident.inert(), page.ack_hint, page.step, page.round, sms=self.sms
        )

        def call() -> Any:
            client = NotificationsAPIClient(api_key, base_url=base, timeout=HTTP_TIMEOUT)
            try:
                return self.deliver(client, recipient, page, fields)
            finally:
                client.request_session.close()

        try:
            resp = await asyncio.to_thread(call)
        except InvalidResponse:
            # A 2xx whose body was not JSON: Notify took it; resending would duplicate it.
            return ProviderResult(True, detail="GOV.UK Notify accepted it (no JSON answer)")
        except HTTPError as e:
            status = e.status_code
            retryable = status == 429 or status >= 500
            what = "could not be reached" if e.response is None else f"answered HTTP {status}"
            return ProviderResult(
                False, retryable, f"GOV.UK Notify {what}: {_notify_message(e)}".rstrip(": ")
            )
        except APIError as e:
            return ProviderResult(False, True, f"GOV.UK Notify error: {_notify_message(e)}")
        except ValueError as e:  # e.g. an API key of the wrong shape
            return ProviderResult(False, False, f"GOV.UK Notify: {type(e).__name__}")
        ref = {"notification_id": resp.get("id")} if isinstance(resp, dict) else None
        return ProviderResult(True, detail="GOV.UK Notify accepted it", ref=ref)
