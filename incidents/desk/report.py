"""``/compromised report <id>``: the post-incident (or drill) report as a Markdown file.

The report itself is written by ``incidents.report``; this adds the pages and the
acknowledgement time from the pager.
"""

from __future__ import annotations

from bot.core import Turn
from bot.core.model import Message, Section
from incidents.desk.job import DeskJob
from incidents.desk.paging_link import ADMIN_HINT
from incidents.report import acknowledgements, admin_notes, build_report, duration, timings

MAX_ADMIN_NOTES = 8  # a section holds about 3,000 characters


class Reports(DeskJob):
    """The report command and message."""

    async def report(self, turn: Turn, rest: str) -> None:
        inc = await self.desk.find(turn, rest.split()[0] if rest.split() else "")
        if inc is None:
            return
        await turn.reply(await self.message(inc.id))
        if self.services.is_admin(turn.actor):
            await self.admin_notes(turn, inc.id)

    async def admin_notes(self, turn: Turn, incident_id: str) -> None:
        """For an admin, privately: paging's detail and where to change it. The report
        itself is for everyone, so it has none of this."""
        events = await self.store.timeline.events(incident_id)
        pages = await self.pager.pages(incident_id) if self.pager is not None else []
        notes = admin_notes(events, pages)
        if not notes:
            return
        shown = notes[:MAX_ADMIN_NOTES]
        more = len(notes) - len(shown)
        text = "\n".join(
            [f"For admins, paging on {incident_id}:", *(f"• {n}" for n in shown)]
            + ([f"…and {more} more."] if more else [])
            + [ADMIN_HINT]
        )
        await turn.reply(Message(text=text, blocks=(Section(text),), private=True))

    async def message(self, incident_id: str) -> Message:
        inc = await self.store.get(incident_id)
        assert inc is not None
        steps = await self.store.steps.all(inc.id)
        events = await self.store.timeline.events(inc.id)
        pages = await self.pager.pages(inc.id) if self.pager is not None else []
        acks = acknowledgements(inc, events)
        acked_at = acks[0][0] if acks else None
        if acked_at is None and self.pager is not None:
            acked_at = await self.pager.acknowledged_at(inc.id)
        markdown = build_report(inc, steps, events, pages, acked_at, self.desk.tz)
        t = timings(inc, steps, acked_at)
        kind = "Drill report" if inc.drill else "Post-incident report"
        text = (
            f"{kind} for {inc.id}: time to acknowledge {duration(t['acknowledge'])}, "
            f"time to contain {duration(t['contain'])}, {pages_summary(pages)}."
        )
        return Message(
            text=text,
            blocks=(Section(text),),
            attachment=(f"{inc.id}{'-drill' if inc.drill else ''}-report.md", markdown),
        )


def pages_summary(pages: list) -> str:
    """Like "3 pages sent, 4 failed": only pages that really went out count as sent."""
    sent = sum(1 for p in pages if getattr(p, "status", None) == "sent")
    failed = sum(1 for p in pages if getattr(p, "status", None) == "failed")
    text = f"{sent} page{'' if sent == 1 else 's'} sent"
    return text + (f", {failed} failed" if failed else "")
