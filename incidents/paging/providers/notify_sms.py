"""A text message through GOV.UK Notify (a ``notify_sms`` target)."""

from __future__ import annotations

from typing import Any

from incidents.paging.providers.base import PageRequest
from incidents.paging.providers.notify import NotifyProvider


class NotifySmsProvider(NotifyProvider):
    kind = "notify_sms"
    label = "GOV.UK Notify text message"
    sms = True

    def recipient(self, target: Any) -> str:
        return target.phone

    def deliver(self, client: Any, recipient: str, page: PageRequest, fields: dict) -> Any:
        return client.send_sms_notification(
            phone_number=recipient,
            template_id=page.target.template_id,
            personalisation=fields,
            reference=page.key,
        )
