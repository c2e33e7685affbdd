"""The post-incident (or drill) report as Markdown, drawn from ``incidents.report_data``.

User-typed text is made inert (no control or bidi characters, one line) and escaped,
so it cannot change the report's structure or become a link or an HTML tag. The HTML
version (``incidents.report_html``) is drawn from the same :class:`Report`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.inert import inert
from incidents.report_contents import contents
from incidents.report_data import (
    ADMIN_ONLY,
    Bullets,
    Checklist,
    Extras,
    Pairs,
    Report,
    Table,
    acknowledgements,
    contained_at,
    duration,
    timings,
)
from incidents.store import Event, Incident, StepState

__all__ = [
    "acknowledgements",
    "admin_notes",
    "build_report",
    "contained_at",
    "duration",
    "markdown",
    "md",
    "timings",
]

_MD = re.compile(r"([\\`*_~\[\]<>|#&])")
DRILL_BANNER = "DRILL — this was an exercise. Nothing here happened to a real account."


def md(text: str | None) -> str:
    """One line of typed text, shown as typed in any Markdown viewer: inert, with the
    marks that start formatting, links, tags, headings, table cells or character
    references (``&rlm;`` would be an invisible direction mark) backslash-escaped."""
    return _MD.sub(r"\\\1", inert(text or "", multiline=False))


def admin_notes(events: list[Event], pages: list[Any]) -> list[str]:
    """What only admins are shown: paging's detail from the timeline, and why each page
    that did not go failed or was skipped (provider errors may name settings)."""
    notes = [e.text for e in events if e.kind in ADMIN_ONLY]
    for page in pages:
        detail = getattr(page, "detail", None)
        if detail and getattr(page, "status", None) != "sent":
            target, provider = getattr(page, "target", "?"), getattr(page, "provider", "?")
            notes.append(f"{target} ({provider}), {getattr(page, 'status', '?')}: {detail}")
    return notes


def _label(label: str) -> str:
    """A timing's label: the measures ("Time to …") in bold, their explanation not."""
    if not label.startswith("Time to"):
        return md(label)
    head, sep, tail = label.partition(" (")
    return f"**{md(head)}**" + (f" ({md(tail)}" if sep else "")


def _table(headers: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[str]:
    out = ["| " + " | ".join(md(h) for h in headers) + " |", "|" + " --- |" * len(headers)]
    return out + ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]


def _section(section: Any) -> list[str]:
    hashes = "#" * getattr(section, "level", 2)
    out = [f"{hashes} {md(section.title)}", ""]
    if isinstance(section, Pairs):
        out += [f"- {_label(label)}: {md(value)}" for label, value in section.rows]
    elif isinstance(section, Bullets):
        out += [f"- {md(item)}" for item in section.items] or [md(section.empty)]
    elif isinstance(section, Table):
        if section.note:
            out += [md(section.note), ""]
        out += _table(section.headers, section.rows) if section.rows else [md(section.empty)]
    elif isinstance(section, Checklist):
        if not section.phases:
            out.append("No steps.")
        for label, items in section.phases:
            out += [f"### {md(label)}", ""]
            out += [f"- [{'x' if done else ' '}] {md(t)} — {md(note)}" for done, t, note in items]
            out.append("")
        return out
    return out + [""]


def markdown(report: Report) -> str:
    out = [f"# {md(report.title)}", ""]
    if report.drill:
        out += [f"**DRILL** {md(DRILL_BANNER.removeprefix('DRILL '))}", ""]
    out += ["## Summary for the SIRO", ""] + [f"- {md(line)}" for line in report.summary]
    out += ["", "## The incident", ""] + list(_table(("", ""), ()))[:2]
    out += [f"| {md(k)} | {md(v)} |" for k, v in report.facts] + [""]
    for section in report.sections:
        out += _section(section)
    return "\n".join(out)


def build_report(
    inc: Incident,
    steps: list[StepState],
    events: list[Event],
    pages: list[Any],
    acked_at: datetime | None,
    tz: ZoneInfo | None = None,
    extras: Extras | None = None,
) -> str:
    """The Markdown report. ``tz`` is ignored: people read Europe/London, with the zone
    (kept so older callers still work)."""
    return markdown(contents(inc, steps, events, pages, acked_at, extras))
