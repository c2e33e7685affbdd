"""The ways a page reaches a person, one module each, all behind one base class
(:class:`~incidents.paging.providers.base.Provider`).

Each provider's ``send(page)`` returns a :class:`ProviderResult` and never raises:
``ok`` (delivered, don't resend), or not ok with ``retryable`` saying whether trying
again later can help (rate limits, 5xx, network) or not (bad request, bad key). The
outbox does the retrying and the falling back; providers only say what happened.
Errors are described without secrets or message text, since they reach the timeline.

To add a provider: a module here with a :class:`Provider` subclass (``kind``, ``label``,
``actions``, ``send``); its target model in ``incidents/paging/targets.py`` (added to
``Target`` and ``TARGET_TYPES``, secrets named by ``*_env`` fields); and one line in
:func:`build_providers`.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from incidents.paging.providers.base import (
    DEFAULT_ACK_HINT,
    PageRequest,
    Provider,
    ProviderContext,
    ProviderResult,
)
from incidents.paging.providers.chat import ChatProvider
from incidents.paging.providers.notify_email import NotifyEmailProvider
from incidents.paging.providers.notify_sms import NotifySmsProvider
from incidents.paging.providers.pagerduty import PagerDutyProvider
from incidents.paging.providers.smtp_email import SmtpProvider
from incidents.paging.providers.webhook import WebhookProvider, sign_webhook, verify_webhook
from incidents.paging.targets import Target

# mypy can't take a union alias as a type argument yet (PEP 747, TypeForm).
TARGET_ADAPTER: TypeAdapter[Any] = TypeAdapter(Target)  # type: ignore[arg-type]

__all__ = [
    "DEFAULT_ACK_HINT",
    "PageRequest",
    "Provider",
    "ProviderContext",
    "ProviderResult",
    "build_providers",
    "sign_webhook",
    "target_from_json",
    "verify_webhook",
]


def build_providers(ctx: ProviderContext) -> dict[str, Provider]:
    return {
        "pagerduty": PagerDutyProvider(ctx),
        "notify_sms": NotifySmsProvider(ctx),
        "notify_email": NotifyEmailProvider(ctx),
        "email": SmtpProvider(ctx),
        "chat": ChatProvider(ctx),
        "webhook": WebhookProvider(ctx),
    }


def target_from_json(data: dict[str, Any]) -> Any:
    return TARGET_ADAPTER.validate_python(data)
