"""``/compromised report <id>``: the post-incident (or drill) report, as a Markdown file
and a self-contained HTML file (to print, or to send to the SIRO).

The report's words come from ``incidents.report_contents``; this gathers the record
(steps, timeline, the pager's pages and acknowledgement, the other desk jobs' sections)
and delivers both files where the command was typed, as files through the transport
(Slack uploads them, Teams attaches them, the web chat offers them to download).
"""

from __future__ import annotations

from bot.core import Turn
from bot.core.model import Message, Section
from incidents.desk.ico import DECISIONS
from incidents.desk.job import DeskJob
from incidents.desk.paging_link import ADMIN_HINT
from incidents.desk.takedowns import STATUS_LABELS, day_words, platform_words
from incidents.paging.counting import count_pages
from incidents.report import acknowledgements, admin_notes, duration, markdown, timings
from incidents.report_contents import contents
from incidents.report_data import Extras
from incidents.report_html import html_report
from incidents.times import london

MAX_ADMIN_NOTES = 8  # a section holds about 3,000 characters


class Reports(DeskJob):
    """The report command and messages."""

    async def report(self, turn: Turn, rest: str) -> None:
        inc = await self.desk.find(turn, rest.split()[0] if rest.split() else "")
        if inc is None:
            return
        await self.send(turn, inc.id)
        if self.services.is_admin(turn.actor):
            await self.admin_notes(turn, inc.id)

    async def send(self, turn: Turn, incident_id: str) -> None:
        """Both files, as replies where the report was asked for: the web page first,
        so the Markdown report, with its one-line summary, is the last thing said."""
        markdown_file, html_file = await self.messages(incident_id)
        await turn.reply(html_file)
        await turn.reply(markdown_file)

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

    async def extras(self, incident_id: str) -> Extras:
        """The sections other desk jobs keep in their own tables."""
        return Extras(
            ico=await self.ico_rows(incident_id),
            takedowns=await self.takedown_rows(incident_id),
            holding=await self.desk.holding.report_rows(incident_id),
        )

    async def ico_rows(self, incident_id: str) -> tuple[tuple[str, str], ...]:
        """The ICO clock (``incidents.desk.ico``): when we became aware, the deadline,
        the DPO, and the decision with who made it, when and why; empty when no clock
        was started."""
        rec = await self.desk.clock.ico(incident_id)
        if rec is None:
            return ()
        rows = [
            ("Aware (the 72 hours start)", london(rec.aware_at)),
            ("Deadline", london(rec.deadline_at)),
            ("Data protection officer", rec.dpo_name or rec.dpo or "none named"),
        ]
        if rec.decision is None or rec.decided_at is None:
            return (*rows, ("Decision", "none recorded: the clock was still running"))
        in_time = "yes" if rec.decided_at <= rec.deadline_at else "no, after the deadline"
        rows += [
            ("Decision", DECISIONS.get(rec.decision, rec.decision)),
            ("Decided by", f"{rec.decided_by_name or rec.decided_by}, {london(rec.decided_at)}"),
            ("Within 72 hours", in_time),
        ]
        if rec.reason:
            rows.append(("Reason", rec.reason))
        return tuple(rows)

    async def takedown_rows(self, incident_id: str) -> tuple[tuple[str, ...], ...]:
        """Each fake account tracked for takedown (``incidents.desk.takedowns``)."""
        return tuple(
            (
                item.url,
                platform_words(item.platform),
                day_words(item.reported_on),
                item.reference or "none yet",
                STATUS_LABELS.get(item.status, item.status),
            )
            for item in await self.desk.takedowns.items.of(incident_id)
        )

    async def messages(self, incident_id: str) -> tuple[Message, Message]:
        """The Markdown report (with a one-line summary) and its HTML version."""
        inc = await self.store.get(incident_id)
        assert inc is not None
        steps = await self.store.steps.all(inc.id)
        events = await self.store.timeline.events(inc.id)
        pages = await self.pager.pages(inc.id) if self.pager is not None else []
        acks = acknowledgements(inc, events)
        acked_at = acks[0][0] if acks else None
        if acked_at is None and self.pager is not None:
            acked_at = await self.pager.acknowledged_at(inc.id)
        report = contents(inc, steps, events, pages, acked_at, await self.extras(inc.id))
        t = timings(inc, steps, acked_at)
        kind = "Drill report" if inc.drill else "Post-incident report"
        text = (
            f"{kind} for {inc.id}: time to acknowledge {duration(t['acknowledge'])}, "
            f"time to contain {duration(t['contain'])}, {count_pages(pages).summary()}."
        )
        name = f"{inc.id}{'-drill' if inc.drill else ''}-report"
        html_text = f"The same report as a web page, to print or send on: {name}.html"
        return (
            Message(
                text=text, blocks=(Section(text),), attachment=(f"{name}.md", markdown(report))
            ),
            Message(
                text=html_text,
                blocks=(Section(html_text),),
                attachment=(f"{name}.html", html_report(report)),
            ),
        )
