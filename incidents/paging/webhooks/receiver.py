"""Hearing back from paging tools: PagerDuty's V3 webhooks and the generic callback.

``POST /webhooks/pagerduty`` takes PagerDuty's V3 webhooks, signed with the
subscription's secrets (``SECBOT_PAGERDUTY_WEBHOOK_SECRETS``). ``POST /webhooks/paging``
takes the same four events from any other tool (shape in ``events.py``), signed like
our webhook pages: ``X-Secbot-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw
body with one of ``SECBOT_PAGING_CALLBACK_SECRETS``.

- A bad or missing signature: 401, nothing read or changed, one log line without the
  body. A body that is not a JSON object: 400.
- An event type secbot does not use, or one for no incident of ours: 202, ignored,
  with a log line.
- An event already handled (same source and event id): 200, nothing changed again.
- Otherwise: acknowledged stops escalation (unless it was already acknowledged or
  resolved: an acknowledgement after a resolve changes nothing); resolved stops
  paging; both, and reassignments and notes, are told to the incident desk
  (``on_event``), which puts them on the timeline and in chat.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from bot.core.webhooks import Answer, Inbound
from incidents.paging.webhooks.events import RemoteEvent, parse_callback, parse_pagerduty
from incidents.paging.webhooks.signatures import verify_pagerduty, verify_secbot
from incidents.paging.webhooks.store import WebhookEvents

if TYPE_CHECKING:
    from incidents.paging.api import Pager

log = logging.getLogger(__name__)

OnRemote = Callable[[str, RemoteEvent], Awaitable[None]]
REFUSED = Answer(401, {"ok": False, "error": "The signature is missing or wrong."})
PAGERDUTY_PATH = "/webhooks/pagerduty"
CALLBACK_PATH = "/webhooks/paging"


def refused(what: str, setting: str, secrets: Sequence[str], signature: str | None) -> Answer:
    """401 for an unsigned or badly signed call, with one log line saying why (never the
    body)."""
    if not secrets:
        why = f"no secret is set ({setting})"
    else:
        why = "no signature" if not signature else "no signature matches"
    log.warning("%s refused: %s", what, why)
    return REFUSED


class WebhookReceiver:
    """The two receivers (``pagerduty`` and ``callback``) and what an event does."""

    def __init__(self, pager: Pager):
        self.pager = pager
        self.services = pager.services
        self.events = WebhookEvents(pager.services.db)
        # The incident desk: timeline entries and chat messages for an event that
        # changed something (set by the incident feature).
        self.on_event: OnRemote | None = None

    async def pagerduty(self, inbound: Inbound) -> Answer:
        secrets = self.services.settings.pagerduty_webhook_secret_list
        signature = inbound.headers.get("X-PagerDuty-Signature")
        if not verify_pagerduty(secrets, inbound.body, signature):
            setting = "SECBOT_PAGERDUTY_WEBHOOK_SECRETS"
            return refused("PagerDuty webhook", setting, secrets, signature)
        data = self._object(inbound)
        if isinstance(data, Answer):
            return data
        return await self._handle(parse_pagerduty(data), ("pagerduty", None))

    async def callback(self, inbound: Inbound) -> Answer:
        secrets = self.services.settings.paging_callback_secret_list
        signature = inbound.headers.get("X-Secbot-Signature")
        if not verify_secbot(secrets, inbound.body, signature):
            return refused("paging callback", "SECBOT_PAGING_CALLBACK_SECRETS", secrets, signature)
        event = self._object(inbound)
        if isinstance(event, Answer):
            return event
        parsed = parse_callback(event)
        target = parsed.target if isinstance(parsed, RemoteEvent) else None
        return await self._handle(parsed, ("webhook", target or ""))

    @staticmethod
    def _object(inbound: Inbound) -> dict | Answer:
        """The body as a JSON object (checked after the signature), or a 400."""
        data = inbound.json()
        if not isinstance(data, dict):
            return Answer(400, {"ok": False, "error": "The request body must be a JSON object."})
        return data

    async def _handle(self, event: RemoteEvent | str, source: tuple[str, str | None]) -> Answer:
        if isinstance(event, str):
            log.info("paging callback ignored: %s", event)
            return Answer(202, {"ok": True, "ignored": event})
        now = self.services.clock.now()
        if not await self.events.claim(
            event.source, event.event_id, event.kind, event.remote_incident, now
        ):
            log.info("paging callback %s from %s: already handled", event.event_id, event.tool)
            return Answer(200, {"ok": True, "duplicate": True})
        try:
            incident_id, outcome = await self._apply(event, source)
        except BaseException:
            await self.events.release(event.source, event.event_id)
            raise
        await self.events.finish(event.source, event.event_id, incident_id, outcome)
        log.info(
            "paging callback %s (%s) from %s: %s",
            event.event_id, event.kind, event.tool, outcome,
        )  # fmt: skip
        if incident_id is None:
            return Answer(202, {"ok": True, "ignored": outcome})
        return Answer(200, {"ok": True, "outcome": outcome})

    async def _match(self, event: RemoteEvent) -> str | None:
        if event.dedup_key:
            found = await self.pager.incident_for_key(event.dedup_key)
            if found is not None:
                return found
        if event.remote_incident:
            return await self.events.incident_for(event.source, event.remote_incident)
        return None

    async def _apply(
        self, event: RemoteEvent, source: tuple[str, str | None]
    ) -> tuple[str | None, str]:
        """(our incident, what happened), the incident None when there is none."""
        incident_id = await self._match(event)
        if incident_id is None:
            return None, "ignored: no incident of ours"
        if event.kind == "triggered":
            return incident_id, "linked"
        if event.kind in ("acknowledged", "resolved"):
            actor = f"{event.person_platform}:{event.by_id}" if event.by_id else None
            stopped = await self.pager.stopped_elsewhere(
                incident_id, event.kind, actor, source, event.by_name
            )
            if not stopped:
                state = await self.pager.state(incident_id)
                return incident_id, f"ignored: paging was already {state}"
        if self.on_event is not None:
            await self.on_event(incident_id, event)
        return incident_id, "applied"
