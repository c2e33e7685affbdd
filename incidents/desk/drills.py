"""``/compromised drill``: the whole flow marked DRILL, paging only drill-safe targets.

A drill is an incident with ``drill`` set: the cards and messages say DRILL, paging
picks only targets marked drill-safe, and closing one posts its report at once.
"""

from __future__ import annotations

from bot.core import Turn
from incidents.desk.job import DeskJob


class Drills(DeskJob):
    """Starting a drill; the rest of the flow is the incident's own."""

    async def drill(self, turn: Turn, rest: str) -> None:
        await self.desk.commands.start(turn, rest, drill=True)
