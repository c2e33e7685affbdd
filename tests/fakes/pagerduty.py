"""A fake PagerDuty Events API v2: records /v2/enqueue, answers as programmed.

``FakePagerDuty(responses=[429, 202])`` answers 429 to the first event and 202
to the second; once the list is used up every event gets ``default`` (202). It
checks events the way PagerDuty does, so a malformed event gets a 400.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

from aiohttp import web

from tests.fakes.base import Call, FakeServer

ACTIONS = ("trigger", "acknowledge", "resolve")
# How long tests wait for a page by default. The waits are event-driven, so this only
# costs time when a test is failing; it is generous so a busy CI machine never flakes.
PATIENCE = 30.0
SEVERITIES = ("critical", "error", "warning", "info")


def problems(event: Any) -> list[str]:
    """What PagerDuty would reject in an event (a subset of its checks)."""
    if not isinstance(event, dict):
        return ["Event object is invalid"]
    errors = []
    if not event.get("routing_key"):
        errors.append("'routing_key' is missing or blank")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' is invalid")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("'dedup_key' is invalid")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is required for acknowledge and resolve")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing")
        else:
            summary = payload.get("summary")
            if not summary or len(summary) > 1024:
                errors.append("'payload.summary' is missing or too long")
            if not payload.get("source"):
                errors.append("'payload.source' is missing or blank")
            if payload.get("severity") not in SEVERITIES:
                errors.append("'payload.severity' is invalid")
    return errors


class FakePagerDuty(FakeServer):
    def __init__(self, responses: list[int] | None = None, default: int = 202) -> None:
        self.responses = list(responses or [])
        self.default = default
        self.retry_after: str | None = None  # sent with 429 answers when set
        # While ``hold`` is set to an unset Event, events are recorded but not answered:
        # the sender is "in the middle of a call" (for killing the bot mid-send).
        self.hold: asyncio.Event | None = None
        super().__init__()

    async def wait_for(self, predicate, timeout: float = PATIENCE):
        return await super().wait_for(predicate, timeout)

    def routes(self) -> list:
        return [web.post("/v2/enqueue", self.enqueue)]

    def events(self, action: str | None = None) -> list[dict]:
        return [
            c.body
            for c in self.named("/v2/enqueue")
            if action is None or (isinstance(c.body, dict) and c.body.get("event_action") == action)
        ]

    def enqueued(self) -> list[Call]:
        return self.named("/v2/enqueue")

    async def enqueue(self, request: web.Request) -> web.Response:
        body = await self.record(request)
        if self.hold is not None:
            await self.hold.wait()
        status = self.responses.pop(0) if self.responses else self.default
        if status == 202:
            errors = problems(body)
            if errors:
                return web.json_response(
                    {
                        "status": "invalid event",
                        "message": "Event object is invalid",
                        "errors": errors,
                    },
                    status=400,
                )
            return web.json_response(
                {
                    "status": "success",
                    "message": "Event processed",
                    "dedup_key": body.get("dedup_key"),
                },
                status=202,
            )
        if status == 400:
            return web.json_response(
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": ["programmed 400"],
                },
                status=400,
            )
        if status == 429:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return web.Response(status=429, text="Too Many Requests", headers=headers)
        return web.Response(status=status, text="programmed failure")


# --- PagerDuty's side of two-way paging: V3 webhooks, signed as a subscription does ----

WEBHOOK_SECRET = "pd-webhook-secret-0001-abcdefgh"  # the subscription's signing secret
RESPONDER = ("PRESP01", "Priya Shah")  # the PagerDuty user who acts in these tests


def v3_signature(secrets: list[str], raw: bytes) -> str:
    """``X-PagerDuty-Signature``: ``v1=<hex>`` per secret, comma-separated."""
    return ",".join(
        "v1=" + hmac.new(s.encode(), raw, hashlib.sha256).hexdigest() for s in secrets
    )


class PagerDutyWebhooks:
    """What PagerDuty sends when someone acts on an incident: V3 webhook payloads (as
    in PagerDuty's developer docs, one event per call), signed with the subscription's
    secrets and POSTed to the app's ``/webhooks/pagerduty``. ``send`` can also sign
    with a wrong secret, or not at all, as an attacker would."""

    def __init__(self, bot: Any, secrets: list[str] | None = None) -> None:
        self.bot = bot
        self.secrets = secrets or [WEBHOOK_SECRET]
        self.sent = 0

    def event(
        self,
        event_type: str,
        dedup_key: str,
        *,
        event_id: str | None = None,
        pd_incident: str = "PINC001",
        agent: tuple[str, str] | None = RESPONDER,
        assignees: tuple[str, ...] = (),
        note: str | None = None,
    ) -> dict[str, Any]:
        self.sent += 1
        reference = {
            "html_url": f"https://acme.pagerduty.com/incidents/{pd_incident}",
            "id": pd_incident,
            "self": f"https://api.pagerduty.com/incidents/{pd_incident}",
            "summary": "Compromised account",
            "type": "incident_reference",
        }
        if event_type == "incident.annotated":
            data: dict[str, Any] = {
                "incident": reference,
                "id": f"PNOTE{self.sent:03d}",
                "content": note or "",
                "trimmed": False,
                "type": "incident_note",
            }
        else:
            data = {
                "id": pd_incident,
                "type": "incident",
                "self": reference["self"],
                "html_url": reference["html_url"],
                "number": 42,
                "status": {"incident.resolved": "resolved",
                           "incident.acknowledged": "acknowledged"}.get(event_type, "triggered"),
                "incident_key": dedup_key,
                "created_at": "2026-03-02T09:00:00Z",
                "title": "Compromised account",
                "service": {"id": "PSVC001", "summary": "secbot", "type": "service_reference"},
                "assignees": [
                    {"id": f"PUSR{i:03d}", "summary": name, "type": "user_reference"}
                    for i, name in enumerate(assignees)
                ],
                "urgency": "high",
                "resolve_reason": None,
            }  # fmt: skip
        return {
            "event": {
                "id": event_id or f"01EVT{self.sent:020d}",
                "event_type": event_type,
                "resource_type": "incident",
                "occurred_at": "2026-03-02T09:03:00.000Z",
                "agent": None if agent is None else {
                    "html_url": f"https://acme.pagerduty.com/users/{agent[0]}",
                    "id": agent[0],
                    "self": f"https://api.pagerduty.com/users/{agent[0]}",
                    "summary": agent[1],
                    "type": "user_reference",
                },
                "client": {"name": "PagerDuty"},
                "data": data,
            }
        }  # fmt: skip

    async def send(
        self,
        payload: dict[str, Any] | bytes,
        *,
        secrets: list[str] | None = None,
        signature: str | None = None,
        signed: bool = True,
    ) -> tuple[int, Any]:
        """POST one webhook; ``secrets`` signs with others, ``signature`` sends that
        header as it is, ``signed=False`` sends none."""
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "PagerDuty-Webhook/V3.0",
            "X-Webhook-Id": "whk-" + hashlib.sha256(raw).hexdigest()[:16],
        }
        if signature is not None:
            headers["X-PagerDuty-Signature"] = signature
        elif signed:
            headers["X-PagerDuty-Signature"] = v3_signature(secrets or self.secrets, raw)
        url = self.bot.url + "webhooks/pagerduty"
        async with self.bot.session.post(url, data=raw, headers=headers) as r:
            return r.status, await r.json(content_type=None)
