"""A signed JSON POST to your own endpoint (``X-Secbot-Signature``: HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import json

import aiohttp

from incidents.paging import wording
from incidents.paging.providers.base import (
    MissingSetting,
    PageRequest,
    Provider,
    ProviderResult,
    http_post,
    http_result,
    network_detail,
)


def sign_webhook(secret: str, body: bytes) -> str:
    """The ``X-Secbot-Signature`` header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_webhook(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver runs: compare in constant time over the raw body it received."""
    return hmac.compare_digest(sign_webhook(secret, body), signature or "")


WEBHOOK_EVENTS = {
    "trigger": "incident.triggered",
    "acknowledge": "incident.acknowledged",
    "resolve": "incident.resolved",
}


class WebhookProvider(Provider):
    kind = "webhook"
    label = "webhook"
    actions = frozenset({"trigger", "acknowledge", "resolve"})

    async def send(self, page: PageRequest) -> ProviderResult:
        t = page.target
        try:
            secret = self.ctx.secret(t.secret_env)
            url = self.ctx.secret(t.url_env) if t.url_env else t.url
        except MissingSetting as e:
            return ProviderResult(False, False, f"webhook: {e}")
        stamp = int(page.now.timestamp())
        event = WEBHOOK_EVENTS[page.action]
        info = page.incident.inert()
        body = {
            "event": event,
            "delivery_id": page.key,
            "timestamp": stamp,
            "incident": info.to_json(),
            "target": page.target_id,
            "step": page.step,
            "round": page.round,
            "text": wording.page_text(info, page.ack_hint, page.step, page.round),
            "acknowledged_by": page.acknowledged_by,
        }
        raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Secbot-Signature": sign_webhook(secret, raw),
            "X-Secbot-Timestamp": str(stamp),
            "X-Secbot-Event": event,
            "X-Secbot-Delivery": page.key,
        }
        try:
            status, text, retry_after = await http_post(self.ctx, url, raw, headers)
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            return ProviderResult(False, True, f"webhook: {network_detail(e)}")
        return http_result("the webhook", status, "", retry_after)
