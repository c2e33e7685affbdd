"""An email through GOV.UK Notify (a ``notify_email`` target)."""

from __future__ import annotations

from typing import Any

from incidents.paging import wording
from incidents.paging.providers.base import PageRequest
from incidents.paging.providers.notify import NotifyProvider


class NotifyEmailProvider(NotifyProvider):
    kind = "notify_email"
    label = "GOV.UK Notify email"

    def recipient(self, target: Any) -> str:
        return target.email

    def deliver(self, client: Any, recipient: str, page: PageRequest, fields: dict) -> Any:
        return client.send_email_notification(
            email_address=recipient,
            template_id=page.target.template_id,
            personalisation=fields,
            reference=page.key,
            sanitise_content_for=wording.NOTIFY_SANITISE,
        )
