"""Acknowledging a page: the button on the card and on chat pages, and
``/compromised ack <id>`` for people paged by SMS or email.

The incident record decides who acknowledged: one UPDATE ``WHERE acked_at IS NULL``,
so of two people acknowledging at once the first wins, exactly once, and the other
is told who did. Only then is the pager told (with the winner's name), so paging's
record and the incident's always name the same person; a later click finishes a
paging stop that a crash cut short.
"""

from __future__ import annotations

import logging

from bot import audit
from bot.core import Turn
from incidents import cards
from incidents.desk.job import DeskJob
from incidents.store import BOT, Incident

log = logging.getLogger(__name__)


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
        # An admin acknowledging a page meant for a team they are not in acts for
        # someone else: the audit log keeps it.
        for_someone_else = allowed and is_admin and not await self._allowed_anyway(inc, actor)
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
        if inc.acked_at is None and await self.store.acknowledge(inc.id, actor, self.desk.now()):
            await self.stop_paging(inc, actor.key, actor.name)
            name = actor.name or actor.user_id
            await self.desk.event(inc, actor, "ack", f"Acknowledged by {name}")
            if for_someone_else:
                await audit.record(
                    turn,
                    "acknowledged a page for someone else",
                    f"{inc.id}, paged to {inc.team or 'no team'}",
                )
            await self.desk.reminders.after_ack(inc)
            await self.desk.refresh(inc.id, turn)
            await turn.reply(
                cards.note(f"{cards.drill(inc)}{name} acknowledged {inc.id}. Paging has stopped.")
            )
            return
        # Someone else was first (now, or before this card was drawn).
        won = await self.store.get(inc.id)
        if won is None or won.acked_at is None or won.acked_by is None:
            return  # a new team was paged in between: its card asks again
        if self.pager is not None and await self.pager.team(inc.id) == won.team:
            # Finishes a stop that a crash cut short.
            await self.stop_paging(won, won.acked_by, won.acked_by_name or "")
        when = cards.hhmm(won.acked_at, self.desk.tz)
        await turn.reply(
            cards.note(
                f"{inc.id} was already acknowledged by {won.acked_by_name} at {when}.",
                private=True,
            )
        )

    async def _allowed_anyway(self, inc: Incident, actor) -> bool:
        """Whether ``actor`` could acknowledge without being an admin."""
        if self.pager is not None:
            return await self.pager.can_acknowledge(inc.id, actor.key, False)
        return actor.key == inc.commander

    async def stop_paging(self, inc: Incident, by: str, name: str) -> None:
        """Tell the pager who acknowledged, and their name for its chat pages (nothing
        happens if it already knows).
        Paging failing must not undo the acknowledgement: it goes on the timeline."""
        if self.pager is None:
            return
        try:
            await self.pager.acknowledge(inc.id, by, name)
        except Exception as e:  # noqa: BLE001 - the acknowledgement itself stands
            log.exception("paging could not be stopped for %s", inc.id)
            await self.desk.event(
                inc, BOT, "paging", f"Paging could not be stopped ({type(e).__name__})"
            )

    async def ack_command(self, turn: Turn, rest: str) -> None:
        """``/compromised ack <id>``: for people paged by SMS or email, with no button."""
        inc = await self.desk.find(turn, rest.split()[0] if rest.split() else "")
        if inc is not None:
            await self.on_ack(turn, inc, [])
