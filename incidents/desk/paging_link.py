"""The desk's side of paging: what the pager is told about an incident, and what it
says back (pages sent, escalations, failures), onto the timeline and into the room.

Paging must never break the incident itself: every failure here is logged and put
on the timeline, never raised.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core import DeliveryFailed
from bot.core.hints import typed
from incidents import cards
from incidents.desk.job import DeskJob
from incidents.paging.model import Notice
from incidents.store import BOT, Incident
from incidents.triage import PLATFORM_IDS, PLATFORM_LABELS, SYMPTOM_LABELS

log = logging.getLogger(__name__)

# Pager events that are also posted in the incident's room, not only the timeline.
ROOM_WORTHY = ("Could not", "Escalation finished")
# The timeline kind of paging's detail (targets, providers, errors): admins see it
# (incidents.report.ADMIN_ONLY).
ADMIN_DETAIL = "paging-detail"
ADMIN_HINT = (
    "Targets, their fallbacks and the teams' members are in the routing file"
    " (SECBOT_ROUTING); provider keys and addresses are settings (see docs/configuration.md)."
)
ACK_HINT = (
    "To stop paging, press Acknowledge in secbot, or send secbot “compromised ack {id}” "
    "(in Slack: /compromised ack {id})."
)


class PagingLink(DeskJob):
    """Start, update and resolve paging for one incident; hear the pager's events."""

    def info(self, inc: Incident) -> Any:
        from incidents.paging import IncidentInfo

        room = inc.room or inc.origin
        platform = PLATFORM_LABELS[inc.platform] if inc.platform in PLATFORM_IDS else "Unknown"
        symptoms = ", ".join(SYMPTOM_LABELS[s] for s in inc.symptoms) or "not stated"
        summary = f"{platform} account {inc.account or '(account not given)'}: {symptoms}."
        facts = inc.facts
        if facts.kind == "impersonation":
            summary += " A fake account is pretending to be ours."
        summary += {
            "yes": " Harmful content is live.",
            "unsure": " Harmful content may be live.",
        }.get(facts.harmful, "")
        if facts.access == "no":
            summary += " We have lost admin access."
        elif facts.access == "unsure" and inc.access == "unsure":
            summary += " We may have lost admin access."
        if facts.personal_data in ("yes", "unsure"):
            summary += " Direct messages or personal data may be exposed."
        return IncidentInfo(
            id=inc.id,
            summary=("DRILL: " if inc.drill else "") + summary,
            platform=inc.platform if inc.platform in PLATFORM_IDS else "other",
            platform_name=(
                platform
                if inc.platform in PLATFORM_IDS and inc.platform != "other"
                else "another platform"
            ),
            account=inc.account or "",
            department=inc.department,
            owning_team=inc.owning_team or "",
            severity=inc.severity or 4,
            drill=inc.drill,
            reporter=inc.reporter,
            origin=room.to_dict(),
        )

    async def start(self, inc: Incident) -> None:
        if self.pager is None:
            return
        try:
            await self.pager.start(self.info(inc))
        except Exception as e:  # noqa: BLE001 - paging must never break the incident itself
            log.exception("paging failed to start for %s", inc.id)
            await self.desk.event(
                inc, BOT, "paging", f"Paging failed to start ({type(e).__name__})"
            )
            return

    async def sync(self, inc: Incident) -> str | None:
        """Tell the pager the incident's current facts. When a raised severity routes
        it to another team, that team is paged (the pager records it on the timeline),
        the incident needs acknowledging again, and in a private Slack channel the new
        team is invited. Returns the newly paged team. Safe to repeat: a change cut short
        by a restart is finished by the next call."""
        if self.pager is None or not inc.is_open or inc.triage_step != "done":
            return None
        try:
            await self.pager.update(self.info(inc))
        except Exception as e:  # noqa: BLE001 - paging must never break the incident itself
            log.exception("paging update failed for %s", inc.id)
            await self.desk.event(
                inc, BOT, "paging", f"Paging could not be updated ({type(e).__name__})"
            )
            return None
        team = await self.pager.team(inc.id)
        if not team or team == inc.team:
            return None
        await self.store.switch_team(inc.id, team)
        if inc.room is not None and inc.room.channel != inc.origin.channel:
            transport = self.services.transports.get(inc.room.platform)
            if transport is not None:
                await transport.invite(inc.room, await self.pager.members(inc.id))
        return team

    async def resolve(self, inc: Incident) -> None:
        """Stop paging for a closed incident and tell PagerDuty; safe to repeat."""
        if self.pager is None or await self.pager.state(inc.id) in (None, "resolved"):
            return
        try:
            await self.pager.resolve(inc.id)
        except Exception as e:  # noqa: BLE001 - closing must not fail on paging
            log.exception("paging resolve failed for %s", inc.id)
            await self.desk.event(inc, BOT, "paging", f"Resolve failed ({type(e).__name__})")

    async def on_notice(self, incident_id: str, notice: Notice) -> None:
        """The pager's progress (pages sent, escalations, failures) onto the timeline:
        in plain words for everyone, and with the targets and errors as an admin-only
        entry (the report shows it to admins). Failures, and a chain that ran out with
        nobody acknowledging, are also said in the incident's room in plain words, so
        responders know paging needs help."""
        inc = await self.store.get(incident_id)
        if inc is None:
            return
        now = self.desk.now()
        await self.store.timeline.add(incident_id, now, BOT, "paging", notice.plain)
        if notice.detail != notice.plain:
            await self.store.timeline.add(incident_id, now, BOT, ADMIN_DETAIL, notice.detail)
        if not notice.detail.startswith(ROOM_WORTHY) or not inc.is_open or inc.room is None:
            return
        report = typed(inc.room, f"compromised report {inc.id}")
        text = (
            f"{cards.drill(inc)}{inc.id}: {notice.plain} Admins can see why in the report: {report}"
        )
        try:
            await self.desk.post(inc.room, cards.note(text))
        except DeliveryFailed as e:
            log.warning("could not tell the incident room about paging: %s", e.reason)
