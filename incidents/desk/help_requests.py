"""“Need help” on a checklist step: tell the commander, in the incident's room, and
each member of the paged team directly, once per step; the step then shows it.

Kept apart from the checklist's own buttons because it reaches people outside the
incident's room (the paged team), through the neutral transport.
"""

from __future__ import annotations

import logging

from bot.core import DeliveryFailed, Turn
from incidents import cards
from incidents.desk.job import DeskJob
from incidents.store import BOT, Incident

log = logging.getLogger(__name__)


class HelpRequests(DeskJob):
    """A step's "Need help": who is told, and how."""

    async def on_help(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        """ "Need help": tell the commander (in the incident's room) and the paged
        team (each member directly), once per step."""
        step = await self.desk.checklist.open_step(turn, inc, parts)
        if step is None:
            return
        if not step.is_open:
            await turn.reply(
                cards.note(await self.desk.checklist.resolved_text(inc, step), private=True)
            )
            return
        number = await self.desk.checklist.number(inc, step)
        if not await self.store.steps.ask_help(inc.id, step.step_id, turn.actor, self.desk.now()):
            await turn.reply(
                cards.note(
                    f"Help was already asked for on step {number}; the commander"
                    " and the paged team have been told.",
                    private=True,
                )
            )
            return
        name = turn.actor.name or turn.actor.user_id
        await self.desk.event(inc, turn.actor, "help", f"{name} asked for help with “{step.text}”")
        commander = inc.commander_name or inc.commander
        team = await self.pager.team(inc.id) if self.pager is not None else None
        text = (
            f"{cards.drill(inc)}{inc.id}: {name} needs help with step {number}, “{step.text}”. "
            f"Commander {commander}"
            + (f" and team {team}: " if team else ": ")
            + "please help, or reassign the step."
        )
        told = await self.tell_room(inc, text)
        paged = await self.tell_paged(inc, turn, text)
        await self.desk.refresh(inc.id, turn, card=False)
        who = ["the commander"] if told else []
        if paged:
            # Plain words for whoever asked: the team's name is the routing file's.
            who.append(f"{paged} {'person' if paged == 1 else 'people'} on the on-call team")
        await turn.reply(
            cards.note(
                f"Asked for help with step {number}: "
                + (" and ".join(who) + " have been told." if who else "no one could be told.")
                + " The step shows that help was asked for.",
                private=True,
            )
        )

    async def tell_room(self, inc: Incident, text: str) -> bool:
        where = inc.room or inc.origin
        try:
            await self.desk.post(where, cards.note(text))
        except DeliveryFailed as e:
            log.warning("could not ask for help in the incident room: %s", e.reason)
            await self.desk.event(
                inc, BOT, "error", f"Could not ask for help in the room ({e.reason})"
            )
            return False
        return True

    async def tell_paged(self, inc: Incident, turn: Turn, text: str) -> int:
        """A direct message to each member of the paged team who uses the platform the
        incident is worked on (besides the person asking). Returns how many were told."""
        if self.pager is None or not await self.pager.team(inc.id):
            return 0
        where = inc.room or inc.origin
        transport = self.services.transports.get(where.platform)
        if transport is None:
            return 0
        told = 0
        for member in await self.pager.members(inc.id):
            # "slack:U1" (a Teams id may hold colons of its own), or a bare id on the
            # platform the incident is worked on (as incidents.paging.routing reads them).
            platform, _, user_id = member.partition(":") if ":" in member else ("", "", member)
            if (platform or where.platform) != where.platform or not user_id:
                continue
            if f"{where.platform}:{user_id}" == turn.actor.key:
                continue
            try:
                await transport.post(
                    transport.direct_place(where.workspace, user_id), cards.note(text)
                )
                told += 1
            except DeliveryFailed as e:
                log.warning("could not tell a paged person about a help request: %s", e.reason)
        return told
