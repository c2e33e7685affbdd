"""What a paging tool says back, on the incident (``incidents/paging/webhooks``).

Someone acknowledged in PagerDuty (or another tool calling back): the incident
records it with their name, the card shows it and the room hears that paging has
stopped. Resolved there: the room is told, and the commander is offered a one-click
close, which goes through the usual close (with its confirmation when steps are still
open). Reassigned and notes go on the timeline. People are named as the tool names
them (PagerDuty's user name), never by the tool's id.

Timeline kinds: ``ack`` (as an acknowledgement in chat), ``remote-resolved``,
``remote-reassigned`` and ``remote-note``.
"""

from __future__ import annotations

import logging

from bot.core import DeliveryFailed, Turn
from bot.core.actions import button_value
from bot.core.inert import one_line
from bot.core.model import Actions, Actor, Button, Message, Section
from incidents import cards
from incidents.desk.job import DeskJob
from incidents.paging.webhooks.events import RemoteEvent
from incidents.store import Incident

log = logging.getLogger(__name__)

# The button on the "resolved in PagerDuty" offer: incident:remoteclose <id>.
CLOSE_VERB = "remoteclose"


class RemotePaging(DeskJob):
    """Events from paging tools onto the incident; the close offer's button."""

    async def on_event(self, incident_id: str, event: RemoteEvent) -> None:
        inc = await self.store.get(incident_id)
        if inc is None:
            return
        who = event.by_name or f"someone in {event.tool}"
        actor = Actor(event.person_platform, event.by_id or "unknown", who)
        if event.kind == "acknowledged":
            await self._acknowledged(inc, actor, who, event.tool)
        elif event.kind == "resolved":
            await self._resolved(inc, actor, who, event.tool)
        elif event.kind == "reassigned":
            to = event.text or "someone else"
            moved = f"Reassigned in {event.tool} to {to}"
            await self.desk.event(inc, actor, "remote-reassigned", moved)
        elif event.kind == "annotated" and event.text:
            note = f"Note in {event.tool} from {who}: {event.text}"
            await self.desk.event(inc, actor, "remote-note", note)

    async def _acknowledged(self, inc: Incident, actor: Actor, who: str, tool: str) -> None:
        if not await self.store.acknowledge(inc.id, actor, self.desk.now()):
            return  # acknowledged in chat already: that one counts
        await self.desk.event(inc, actor, "ack", f"Acknowledged in {tool} by {who}")
        await self.desk.refresh(inc.id)
        if inc.is_open:
            await self._say(
                inc, cards.note(f"{cards.drill(inc)}{who} acknowledged {inc.id} in {tool}."
                                " Paging has stopped.")
            )  # fmt: skip

    async def _resolved(self, inc: Incident, actor: Actor, who: str, tool: str) -> None:
        await self.desk.event(inc, actor, "remote-resolved", f"Resolved in {tool} by {who}")
        if not inc.is_open:
            return
        commander = inc.commander_name or "Commander"
        text = (
            f"{cards.drill(inc)}{who} resolved {inc.id} in {tool}, so paging has stopped."
            f" {commander}, if the account is safe again, close the incident here."
        )
        value = button_value(inc.id, tool)
        close = Button("Close incident", f"incident:{CLOSE_VERB}", value, "primary")
        await self._say(inc, Message(text=text, blocks=(Section(text), Actions((close,)))))

    async def _say(self, inc: Incident, msg: Message) -> None:
        try:
            await self.desk.post(inc.room or inc.origin, msg)
        except DeliveryFailed as e:
            log.warning("could not tell the incident room about paging: %s", e.reason)

    async def on_close(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        """The offer's button: the usual close, with a summary saying why, so the
        commander (or an admin) is asked to confirm when steps are still open."""
        if not inc.is_open:
            await turn.reply(cards.note(f"{inc.id} is already closed.", private=True))
            return
        tool = one_line(parts[0], 60) if parts and parts[0] else "the paging tool"
        await self.desk.lifecycle.close(turn, f"{inc.id} Resolved in {tool}.")
