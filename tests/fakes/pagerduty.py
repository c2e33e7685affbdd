"""A fake PagerDuty Events API v2: records /v2/enqueue, answers as programmed.

``FakePagerDuty(responses=[429, 202])`` answers 429 to the first event and 202
to the second; once the list is used up every event gets ``default`` (202). It
checks events the way PagerDuty does, so a malformed event gets a 400.
"""

from __future__ import annotations

import asyncio
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
