"""The report as data: every section once, in plain words, for both renderings.

The Markdown (``incidents.report``) and the HTML (``incidents.report_html``) are drawn
from the same :class:`Report`, so the two files never disagree, and the checked-in
example (docs/example-report.md) can be compared with a fresh one by its structure.

Nothing here is escaped: each renderer makes every string inert and escapes it for its
own markup. Every time a person reads is Europe/London with the zone (incidents.times).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from incidents.paging.counting import PageCounts
from incidents.paging.wording import how
from incidents.playbooks import PHASE_LABELS, PHASES, phase_of
from incidents.store import Event, Incident, StepState
from incidents.times import london_seconds

# The triage answers as the reporter gave them ("Not sure" stays "not sure").
_ANSWER = {"yes": "yes", "no": "no", "unsure": "not sure"}
_KIND = {"hijack": "hijack", "impersonation": "impersonation (a fake account)"}
# Timeline entries only admins see: paging's detail (targets, providers, errors).
ADMIN_ONLY = frozenset({"paging-detail"})
ACTION_WORDS = {"trigger": "page", "acknowledge": "acknowledged", "resolve": "resolved"}
PAGE_HEADERS = ("Sent", "To", "How", "What", "Step", "Result")


@dataclass(frozen=True)
class Pairs:
    """Label: value lines (a bold label in Markdown, a definition list in HTML)."""

    title: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Bullets:
    title: str
    items: tuple[str, ...]
    empty: str = "None."  # said when there are no items: only ever when truly none


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = "None."
    note: str = ""  # one line under the title, saying what the table counts
    level: int = 2  # 2: a section of its own; 3: part of the section before


@dataclass(frozen=True)
class Checklist:
    """Steps by phase: (phase label, ((done?, step text, what became of it), …))."""

    title: str
    phases: tuple[tuple[str, tuple[tuple[bool, str, str], ...]], ...]


ReportSection = Pairs | Bullets | Table | Checklist


@dataclass(frozen=True)
class Report:
    title: str
    drill: bool
    summary: tuple[str, ...]  # the SIRO summary, first thing read
    facts: tuple[tuple[str, str], ...]
    sections: tuple[ReportSection, ...] = field(default=())


@dataclass(frozen=True)
class Extras:
    """Sections other desk jobs record in their own tables, already in plain words.
    ``None`` means that job is not part of this secbot; an empty tuple means none
    were recorded."""

    ico: tuple[tuple[str, str], ...] | None = None
    takedowns: tuple[tuple[str, ...], ...] | None = None
    takedown_headers: tuple[str, ...] = (
        "Fake account", "Platform", "Reported", "Reference", "Status"
    )  # fmt: skip
    holding: tuple[tuple[str, ...], ...] | None = None
    holding_headers: tuple[str, ...] = ("Situation", "Status", "Approved by", "Posted", "Text")


def when(value: datetime | None) -> str:
    return london_seconds(value) if value is not None and value.tzinfo else "—"


def duration(delta: timedelta | None) -> str:
    if delta is None:
        return "not reached"
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def phase_done_at(steps: Iterable[StepState], phase: str) -> datetime | None:
    """When the last step of ``phase`` was done or skipped (None while any is open, or
    when the checklist has no step in that phase)."""
    in_phase = [s for s in steps if phase_of(s.phase) == phase]
    if not in_phase or any(s.status == "open" or s.at is None for s in in_phase):
        return None
    return max(s.at for s in in_phase if s.at is not None)


def contained_at(steps: Iterable[StepState]) -> datetime | None:
    """When the last contain-phase step was done or skipped (None while any is open)."""
    return phase_done_at(steps, "contain")


def timings(
    inc: Incident, steps: list[StepState], acked_at: datetime | None
) -> dict[str, timedelta | None]:
    """Time to acknowledge is measured from paging (end of triage); the others from the
    report being opened."""
    paged = inc.triaged_at
    contained = inc.contained_at or contained_at(steps)
    recovered = phase_done_at(steps, "recover")
    return {
        "acknowledge": (acked_at - paged) if acked_at and paged else None,
        "contain": (contained - inc.created_at) if contained else None,
        "recover": (recovered - inc.created_at) if recovered else None,
        "close": (inc.closed_at - inc.created_at) if inc.closed_at else None,
    }


def acknowledgements(inc: Incident, events: list[Event]) -> list[tuple[datetime, str]]:
    """Every acknowledgement, first first: (when, who). There is more than one when a
    raised severity paged another team, which then acknowledged too."""
    acks = [(e.at, e.actor_name) for e in events if e.kind == "ack"]
    if not acks and inc.acked_at is not None:
        acks = [(inc.acked_at, inc.acked_by_name or inc.acked_by or "")]
    return acks


def _page_row(page: Any, show_team: bool) -> tuple[str, ...]:
    """One :class:`incidents.paging.model.PageRecord` in plain words: how it was sent
    and whether it went, not the provider's error (admins get that privately)."""
    target = str(getattr(page, "target", "—"))
    if getattr(page, "fallback_for", None):
        target += f" (instead of {page.fallback_for})"
    step, round_ = getattr(page, "step", 0), getattr(page, "round", 0)
    where = f"{step}" + (f", round {round_}" if round_ and round_ > 1 else "") if step else "—"
    team = getattr(page, "team", None)
    if show_team and team and step:
        where += f" ({team})"
    action = str(getattr(page, "action", "—"))
    sent_at = getattr(page, "sent_at", None)
    return (
        when(sent_at if isinstance(sent_at, datetime) else None),
        target,
        how(str(getattr(page, "provider", ""))),
        ACTION_WORDS.get(action, action),
        where,
        str(getattr(page, "status", "—")),
    )


def page_tables(counts: PageCounts) -> tuple[Table, ...]:
    """Pages to people, then (apart) pages a drill did not send and the updates."""
    show_team = len({getattr(p, "team", None) for p in counts.all} - {None}) > 1
    people = counts.sent + counts.failed + counts.not_sent

    def rows(pages: Iterable[Any]) -> tuple[tuple[str, ...], ...]:
        return tuple(_page_row(p, show_team) for p in pages)

    n = len(counts.sent)
    note = (
        f"{n} page{'' if n == 1 else 's'} reached people"
        + (f"; {len(counts.failed)} failed" if counts.failed else "")
        + (f"; {len(counts.not_sent)} not sent" if counts.not_sent else "")
        + ". Only pages to people count here."
    )
    return (
        Table("Pages sent", PAGE_HEADERS, rows(people), note=note if people else ""),
        Table(
            "Not paged because this was a drill",
            PAGE_HEADERS,
            rows(counts.drill_skipped),
            note="Targets that are not drill-safe are never paged in a drill." if
            counts.drill_skipped else "",
            level=3,
        ),
        Table(
            "Acknowledge and resolve updates to paging tools",
            PAGE_HEADERS,
            rows(counts.updates),
            note="Messages that told a paging tool about an acknowledgement or a close;"
            " not pages." if counts.updates else "",
            level=3,
        ),
    )


def checklist(steps: list[StepState]) -> Checklist:
    phases = []
    for phase in PHASES:
        items = []
        for s in (s for s in steps if phase_of(s.phase) == phase):
            who = s.by_name or s.by_key or "someone"
            note = {
                "done": f"done by {who} at {when(s.at)}",
                "skipped": f"skipped by {who} at {when(s.at)}",
            }.get(s.status, "not done")
            items.append((s.status == "done", s.text, note))
        if items:
            phases.append((PHASE_LABELS[phase], tuple(items)))
    return Checklist("Checklist", tuple(phases))
