"""Two-way paging: PagerDuty's V3 webhooks and a generic signed callback tell secbot
that someone acknowledged, resolved, reassigned or annotated an incident in their
paging tool (``receiver.py``; the README's "PagerDuty: two-way set-up" says how to
subscribe). Signatures in ``signatures.py``, the events' one shape in ``events.py``,
the events already handled in ``store.py``."""

from incidents.paging.webhooks.events import RemoteEvent
from incidents.paging.webhooks.receiver import CALLBACK_PATH, PAGERDUTY_PATH, WebhookReceiver
from incidents.paging.webhooks.signatures import pagerduty_signature, verify_pagerduty

__all__ = [
    "CALLBACK_PATH",
    "PAGERDUTY_PATH",
    "RemoteEvent",
    "WebhookReceiver",
    "pagerduty_signature",
    "verify_pagerduty",
]
