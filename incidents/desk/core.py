"""The incident desk: one store, the playbooks and the pager, shared by its jobs.

Each job is a class in its own module under ``incidents/desk/``: ``commands`` (the
``/compromised`` dispatcher, start here), ``triage``, ``checklist``, ``acknowledgement``,
``lifecycle``, ``report``, ``drills`` and ``paging_link``. They reach each other and the
helpers here through the desk (``self.desk.checklist``, ``self.desk.refresh``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.core import DeliveryFailed, Turn
from bot.core.hints import typed
from bot.core.model import Actor, Message, MessageRef, Place
from incidents import cards
from incidents.access import IncidentAccess, start_limits
from incidents.clock import ClockStore
from incidents.desk.acknowledgement import Acknowledgement
from incidents.desk.checklist import Checklist
from incidents.desk.commands import Commands
from incidents.desk.drills import Drills
from incidents.desk.evidence import EvidenceDesk
from incidents.desk.handover import Handover
from incidents.desk.help_requests import HelpRequests
from incidents.desk.holding import Holding
from incidents.desk.ico import IcoClock, card_blocks
from incidents.desk.lifecycle import Lifecycle
from incidents.desk.paging_link import PagingLink
from incidents.desk.registered import RegisteredAccounts
from incidents.desk.reminders import StatusReminders
from incidents.desk.remote_paging import RemotePaging
from incidents.desk.report import Reports
from incidents.desk.takedowns import TakedownTracker
from incidents.desk.triage import Triage
from incidents.names import Names
from incidents.playbooks import Playbooks
from incidents.store import Incident, IncidentStore

if TYPE_CHECKING:
    from bot.core import Services

log = logging.getLogger(__name__)


class IncidentDesk:
    """The /compromised jobs, sharing one store, the playbooks and the pager."""

    def __init__(self, services: Services, playbooks: Playbooks, pager: Any):
        self.services = services
        self.store = IncidentStore(services.db)
        self.playbooks = playbooks
        self.pager = pager
        self.access = IncidentAccess(services, self.store, pager)
        self.names = Names(services, self.store)
        self.limits = start_limits(services)
        self.commands = Commands(self)
        self.triage = Triage(self)
        self.checklist = Checklist(self)
        self.help_requests = HelpRequests(self)
        self.acks = Acknowledgement(self)
        self.lifecycle = Lifecycle(self)
        self.reports = Reports(self)
        self.drills = Drills(self)
        self.paging = PagingLink(self)
        self.handover = Handover(self)
        self.evidence = EvidenceDesk(self)
        self.takedowns = TakedownTracker(self)
        self.holding = Holding(self)
        self.clock = ClockStore(services.db)
        self.ico = IcoClock(self)
        self.reminders = StatusReminders(self)
        self.remote = RemotePaging(self)
        self.registered = RegisteredAccounts(self)

    @property
    def tz(self):
        return self.services.settings.tz

    def now(self):
        return self.services.clock.now()

    async def event(self, inc: Incident, actor: Actor, kind: str, text: str) -> None:
        await self.store.timeline.add(inc.id, self.now(), actor, kind, text)

    def may_run(self, actor: Actor, inc: Incident) -> bool:
        return actor.key == inc.commander or self.services.is_admin(actor)

    async def refuse(self, turn: Turn, inc: Incident, what: str) -> None:
        who = inc.commander_name or inc.commander
        await turn.reply(
            cards.note(
                f"Only the incident commander ({who}) or an admin can {what} {inc.id}. "
                f"Ask them, or ask the commander to hand over with "
                f"{typed(turn.place, f'compromised assign {inc.id} @you')}.",
                private=True,
            )
        )

    async def find(self, turn: Turn, ident: str) -> Incident | None:
        """The incident named by the caller, if they may see it (``incidents.access``)."""
        return await self.access.find(turn, ident)

    async def post(self, place: Place, msg: Message, turn: Turn | None = None) -> MessageRef | None:
        transport = self.services.transports.get(place.platform)
        if transport is None:  # a platform with no proactive transport (the test backend)
            return await turn.reply(msg) if turn else None
        return await transport.post(place, msg)

    async def update(self, ref: MessageRef | None, msg: Message, turn: Turn | None = None) -> None:
        """Redraw a stored message: in place through the click when it was clicked."""
        if ref is None:
            return
        clicked = turn.incoming.message if turn else None
        if turn and clicked and clicked.id == ref.id and clicked.place.channel == ref.place.channel:
            await turn.update_original(msg)
            return
        transport = self.services.transports.get(ref.place.platform)
        if transport is None:
            return
        try:
            await transport.update(ref, msg)
        except DeliveryFailed as e:
            log.warning("could not update an incident message: %s", e.reason)

    async def card(self, inc: Incident) -> Message:
        """The incident card with what other jobs add to it (the ICO clock)."""
        extra = card_blocks(await self.clock.ico(inc.id)) if inc.triage_step == "done" else ()
        return cards.incident_card(inc, self.tz, extra)

    async def refresh(
        self, incident_id: str, turn: Turn | None = None, *, card: bool = True
    ) -> None:
        """Redraw the incident card (unless only the checklist changed) and checklist."""
        inc = await self.store.get(incident_id)
        if inc is None:
            return
        if card:
            await self.update(inc.card, await self.card(inc), turn)
        if inc.checklist:
            await self.update(inc.checklist, await self.checklist.message(inc), turn)
