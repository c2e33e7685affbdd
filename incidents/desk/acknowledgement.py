"""Acknowledging a page: the button on the card and on chat pages, and
``/compromised ack <id>`` for people paged by SMS or email.
"""

from __future__ import annotations

from bot.core import Turn
from incidents import cards
from incidents.desk.job import DeskJob
from incidents.store import Incident


class Acknowledgement(DeskJob):
    """Who may acknowledge, and what acknowledging does."""

    async def on_ack(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        actor = turn.actor
        if not inc.is_open:
            await turn.reply(cards.note(f"{inc.id} is already closed.", private=True))
            return
        if inc.triage_step != "done":
            await turn.reply(
                cards.note(f"{inc.id} is still in triage: nobody has been paged yet.", private=True)
            )
            return
        is_admin = self.services.is_admin(actor)
        if self.pager is not None:
            allowed = await self.pager.can_acknowledge(inc.id, actor.key, is_admin)
        else:
            allowed = is_admin or actor.key == inc.commander
        if not allowed:
            await turn.reply(
                cards.note(
                    f"You can't acknowledge {inc.id}: only someone in the paged team "
                    f"({inc.team or 'none'}) or an admin can. If you should be in that team, "
                    "ask an admin to add you to it.",
                    private=True,
                )
            )
            return
        if inc.acked_at is not None:
            when = cards.hhmm(inc.acked_at, self.desk.tz)
            await turn.reply(
                cards.note(
                    f"{inc.id} was already acknowledged by {inc.acked_by_name} at {when}.",
                    private=True,
                )
            )
            return
        if self.pager is not None:
            await self.pager.acknowledge(inc.id, actor.key)
        if not await self.store.acknowledge(inc.id, actor, self.desk.now()):
            return
        name = actor.name or actor.user_id
        await self.desk.event(inc, actor, "ack", f"Acknowledged by {name}")
        await self.desk.reminders.after_ack(inc)
        await self.desk.refresh(inc.id, turn)
        await turn.reply(
            cards.note(f"{cards.drill(inc)}{name} acknowledged {inc.id}. Paging has stopped.")
        )

    async def ack_command(self, turn: Turn, rest: str) -> None:
        """``/compromised ack <id>``: for people paged by SMS or email, with no button."""
        inc = await self.desk.find(turn, rest.split()[0] if rest.split() else "")
        if inc is not None:
            await self.on_ack(turn, inc, [])
