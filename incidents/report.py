"""The post-incident (or drill) report, as Markdown built from the stored record.

Everything comes from the incident's own tables and the pager's records, so a report
written a week later says the same as one written at close. User-typed text is made
inert (no control or bidi characters, one line) and escaped, so it cannot change the
report's structure or become a link or an HTML tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.inert import inert
from incidents.paging.wording import how
from incidents.playbooks import PHASE_LABELS, PHASES, phase_of
from incidents.store import Event, Incident, StepState
from incidents.times import london_seconds
from incidents.triage import PLATFORM_LABELS, SEVERITY_LABELS, SYMPTOM_LABELS

_MD = re.compile(r"([\\`*_~\[\]<>|])")



# The triage answers as the reporter gave them ("Not sure" stays "not sure").
_ANSWER = {"yes": "yes", "no": "no", "unsure": "not sure"}
_KIND = {"hijack": "hijack", "impersonation": "impersonation (a fake account)"}

def md(text: str | None) -> str:
    """One line of typed text, shown as typed in any Markdown viewer: inert, with the
    marks that start formatting, links, tags or table cells backslash-escaped."""
    return _MD.sub(r"\\\1", inert(text or "", multiline=False))


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


def contained_at(steps: Iterable[StepState]) -> datetime | None:
    """When the last contain-phase step was done or skipped (None while any is open)."""
    contain = [s for s in steps if s.phase == "contain"]
    if not contain or any(s.status == "open" or s.at is None for s in contain):
        return None
    return max(s.at for s in contain if s.at is not None)


def timings(
    inc: Incident, steps: list[StepState], acked_at: datetime | None
) -> dict[str, timedelta | None]:
    """Time to acknowledge is measured from paging (end of triage); the others from the
    report being opened."""
    paged = inc.triaged_at
    contained = inc.contained_at or contained_at(steps)
    return {
        "acknowledge": (acked_at - paged) if acked_at and paged else None,
        "contain": (contained - inc.created_at) if contained else None,
        "close": (inc.closed_at - inc.created_at) if inc.closed_at else None,
    }


def _when(value: Any, tz: ZoneInfo) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return md(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Europe/London with the zone named, whatever zone the bot schedules tips in.
        return london_seconds(value)
    return "—"


def acknowledgements(inc: Incident, events: list[Event]) -> list[tuple[datetime, str]]:
    """Every acknowledgement, first first: (when, who). There is more than one when a
    raised severity paged another team, which then acknowledged too."""
    acks = [(e.at, e.actor_name) for e in events if e.kind == "ack"]
    if not acks and inc.acked_at is not None:
        acks = [(inc.acked_at, inc.acked_by_name or inc.acked_by or "")]
    return acks


# Timeline entries only admins see: paging's detail (targets, providers, errors).
ADMIN_ONLY = frozenset({"paging-detail"})
ACTION_WORDS = {"trigger": "page", "acknowledge": "acknowledged", "resolve": "resolved"}


def _page_row(page: Any, tz: ZoneInfo, show_team: bool = False) -> str:
    """One :class:`incidents.paging.model.PageRecord` as a table row, in plain words:
    how it was sent and whether it went, not the provider's error (admins get that,
    see :func:`admin_notes`)."""
    target = str(getattr(page, "target", "—"))
    fallback = getattr(page, "fallback_for", None)
    if fallback:
        target += f" (instead of {fallback})"
    step = getattr(page, "step", 0)
    round_ = getattr(page, "round", 0)
    where = f"{step}" + (f", round {round_}" if round_ and round_ > 1 else "") if step else "—"
    team = getattr(page, "team", None)
    if show_team and team and step:
        where += f" ({team})"
    status = str(getattr(page, "status", "—"))
    way = how(str(getattr(page, "provider", "")))
    action = str(getattr(page, "action", "—"))
    return (
        f"| {_when(getattr(page, 'sent_at', None), tz)} | {md(target)} "
        f"| {md(way)} | {md(ACTION_WORDS.get(action, action))} "
        f"| {md(where)} | {md(status)} |"
    )


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


def build_report(
    inc: Incident,
    steps: list[StepState],
    events: list[Event],
    pages: list[Any],
    acked_at: datetime | None,
    tz: ZoneInfo,
) -> str:
    kind = "Drill report" if inc.drill else "Post-incident report"
    out: list[str] = [f"# {kind}: {inc.id}", ""]
    if inc.drill:
        out += ["**DRILL** — this was an exercise. Nothing here happened to a real account.", ""]
    symptoms = ", ".join(SYMPTOM_LABELS.get(s, s) for s in inc.symptoms) or "—"
    facts = [
        ("Platform", PLATFORM_LABELS.get(inc.platform or "", inc.platform or "—")),
        ("Account", inc.account or "not given"),
        ("Severity", SEVERITY_LABELS.get(inc.severity or 0, "not set")),
        ("Status", inc.status),
        ("What was happening", symptoms),
        ("Kind", _KIND.get(inc.kind or "", "—")),
        ("Still had admin access", _ANSWER.get(inc.access or "", "—")),
        ("Harmful content live", _ANSWER.get(inc.harmful or "", "—")),
        ("Direct messages or personal data exposed", _ANSWER.get(inc.personal_data or "", "—")),
        ("Reporter", inc.reporter_name or inc.reporter),
        ("Commander", inc.commander_name or inc.commander),
        ("Department", inc.department or "—"),
        ("Paged team", inc.team or "—"),
        ("Summary", inc.summary or "—"),
    ]
    out += ["| | |", "| --- | --- |"] + [f"| {k} | {md(v)} |" for k, v in facts] + [""]

    acks = [(e.at, e.actor_name) for e in events if e.kind == "ack"]
    if acks:
        acked_at = acks[0][0]
    elif acked_at is not None and inc.acked_by:
        acks = [(acked_at, inc.acked_by_name or inc.acked_by)]
    t = timings(inc, steps, acked_at)
    first = f"- Acknowledged: {_when(acked_at, tz)}" + (f" by {md(acks[0][1])}" if acks else "")
    again = [f"- Acknowledged again: {_when(at, tz)} by {md(who)}" for at, who in acks[1:]]
    out += [
        "## Timings",
        "",
        f"- Reported: {_when(inc.created_at, tz)}",
        f"- Triage done and team paged: {_when(inc.triaged_at, tz)}",
        first,
        *again,
        f"- **Time to acknowledge** (from paging to the first acknowledgement):"
        f" {duration(t['acknowledge'])}",
        f"- Contained: {_when(inc.contained_at or contained_at(steps), tz)}",
        f"- **Time to contain** (from report, until every contain step was done or skipped):"
        f" {duration(t['contain'])}",
        f"- Closed: {_when(inc.closed_at, tz)}",
        f"- **Time to close**: {duration(t['close'])}",
        "",
        "## Checklist",
        "",
    ]
    for phase in PHASES:
        in_phase = [s for s in steps if phase_of(s.phase) == phase]
        if not in_phase:
            continue
        out += [f"### {PHASE_LABELS[phase]}", ""]
        for s in in_phase:
            mark = "x" if s.status == "done" else " "
            line = f"- [{mark}] {md(s.text)}"
            if s.status == "done":
                line += f" — done by {md(s.by_name or s.by_key)} at {_when(s.at, tz)}"
            elif s.status == "skipped":
                line += f" — skipped by {md(s.by_name or s.by_key)} at {_when(s.at, tz)}"
            else:
                line += " — not done"
            out.append(line)
        out.append("")

    skipped = [s for s in steps if s.status == "skipped"]
    out += ["## Steps skipped and why", ""]
    out += [f"- {md(s.text)}: {md(s.reason or 'no reason given')}" for s in skipped] or ["None."]
    out += ["", "## Pages sent", ""]
    if pages:
        out += [
            "| Sent | To | How | What | Step | Result |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        teams = {getattr(p, "team", None) for p in pages} - {None}
        out += [_page_row(p, tz, show_team=len(teams) > 1) for p in pages]
    else:
        out.append("None.")
    out += ["", "## Timeline", "", "| Time | Who | What |", "| --- | --- | --- |"]
    out += [
        f"| {_when(e.at, tz)} | {md(e.actor_name)} | {md(e.text)} |"
        for e in events
        if e.kind not in ADMIN_ONLY
    ]
    out.append("")
    return "\n".join(out)
