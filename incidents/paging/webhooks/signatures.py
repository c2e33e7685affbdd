"""Checking who sent a callback: PagerDuty's ``X-PagerDuty-Signature`` and our own
``X-Secbot-Signature``.

PagerDuty signs the raw body of each V3 webhook with every signing secret of the
subscription (HMAC-SHA256, hex) and sends them comma-separated, ``v1=<hex>,v1=<hex>``,
so a receiver keeps working while a secret is rotated. Several secrets may be set on
our side for the same reason. Every comparison is constant-time and all of them run,
so the time taken says nothing about which part matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from incidents.paging.providers.webhook import sign_webhook

# More signatures than any rotation needs: a header with more is refused unread.
MAX_SIGNATURES = 8


def pagerduty_signature(secret: str, body: bytes) -> str:
    """The ``v1=<hex>`` PagerDuty sends for ``body`` signed with ``secret``."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _matches(expected: Sequence[str], header: str | None) -> bool:
    given = [part.strip() for part in (header or "").split(",") if part.strip()]
    if not given or len(given) > MAX_SIGNATURES or not expected:
        return False
    found = False
    for want in expected:
        for sig in given:
            found |= hmac.compare_digest(want.encode(), sig.encode())
    return found


def verify_pagerduty(secrets: Sequence[str], body: bytes, header: str | None) -> bool:
    """Whether one of the header's ``v1`` signatures is ``body`` signed with one of
    ``secrets``. No secrets: nothing is trusted."""
    return _matches([pagerduty_signature(s, body) for s in secrets], header)


def verify_secbot(secrets: Sequence[str], body: bytes, header: str | None) -> bool:
    """The same for the generic callback: ``sha256=<hex>`` as our webhook pages carry,
    several comma-separated while a secret is rotated."""
    return _matches([sign_webhook(s, body) for s in secrets], header)
