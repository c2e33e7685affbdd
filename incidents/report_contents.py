"""What the report says, section by section, from the stored record (see report_data).

Everything comes from the incident's own tables and the pager's records, so a report
written a week later says the same as one written at close.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incidents.paging.counting import PageCounts, count_pages
from incidents.report_data import (
    _ANSWER,
    _KIND,
    ADMIN_ONLY,
    Bullets,
    Extras,
    Pairs,
    Report,
    ReportSection,
    Table,
    checklist,
    contained_at,
    duration,
    page_tables,
    phase_done_at,
    timings,
    when,
)
from incidents.store import Event, Incident, StepState
from incidents.triage import (
    PLATFORM_LABELS,
    SEVERITY_LABELS,
    SYMPTOM_LABELS,
    platform_in_words,
)

NOT_PART = "Not recorded: this part of secbot is not switched on here."


def siro_summary(
    inc: Incident, steps: list[StepState], counts: PageCounts, acked_at: datetime | None,
    extras: Extras,
) -> tuple[str, ...]:
    """Five or six lines a Senior Information Risk Owner can read in a minute."""
    platform = platform_in_words(inc.platform)
    what = _KIND.get(inc.kind or "", "a suspected compromise")
    account = f" ({inc.account})" if inc.account else ""
    severity = SEVERITY_LABELS.get(inc.severity or 0, "not set")
    t = timings(inc, steps, acked_at)
    state = f"closed {when(inc.closed_at)}" if inc.closed_at else f"still {inc.status}"
    lines = [
        f"{'A drill (an exercise): ' if inc.drill else ''}{what} of the {platform} account"
        f"{account}, reported {when(inc.created_at)}; severity {severity}; {state}.",
        f"Time to acknowledge {duration(t['acknowledge'])}, to contain"
        f" {duration(t['contain'])}, to recover {duration(t['recover'])}, to close"
        f" {duration(t['close'])}.",
        f"Paging: {counts.summary()}.",
    ]
    personal = _ANSWER.get(inc.personal_data or "", "not answered")
    if extras.ico:
        ico = "; ".join(f"{k}: {v}" for k, v in extras.ico)
    else:
        ico = "none recorded" if extras.ico is not None else "not tracked by this secbot"
    lines.append(f"Personal data exposed: {personal}. ICO decision: {ico}.")
    skipped = sum(1 for s in steps if s.status == "skipped")
    still_open = sum(1 for s in steps if s.status == "open")
    lines.append(
        f"Checklist: {len(steps) - skipped - still_open} of {len(steps)} steps done,"
        f" {skipped} skipped, {still_open} not done."
    )
    extra = []
    if extras.takedowns:
        removed = sum(1 for row in extras.takedowns if row[-1] == "Removed")
        extra.append(
            f"{len(extras.takedowns)} fake account(s) reported for takedown, {removed} removed"
        )
    if extras.holding:
        posted = sum(1 for row in extras.holding if row[1] == "posted")
        extra.append(f"{len(extras.holding)} holding statement(s), {posted} posted")
    if extra:
        lines.append("; ".join(extra).capitalize() + ".")
    return tuple(lines)


def facts(inc: Incident) -> tuple[tuple[str, str], ...]:
    symptoms = ", ".join(SYMPTOM_LABELS.get(s, s) for s in inc.symptoms) or "—"
    return (
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
    )


def timing_rows(
    inc: Incident, steps: list[StepState], events: list[Event], acked_at: datetime | None
) -> tuple[tuple[str, str], ...]:
    acks = [(e.at, e.actor_name) for e in events if e.kind == "ack"]
    if acks:
        acked_at = acks[0][0]
    elif acked_at is not None and inc.acked_by:
        acks = [(acked_at, inc.acked_by_name or inc.acked_by)]
    t = timings(inc, steps, acked_at)
    first = when(acked_at) + (f" by {acks[0][1]}" if acks else "")
    rows = [
        ("Reported", when(inc.created_at)),
        ("Triage done and team paged", when(inc.triaged_at)),
        ("Acknowledged", first),
        *(("Acknowledged again", f"{when(at)} by {who}") for at, who in acks[1:]),
        ("Time to acknowledge (from paging to the first acknowledgement)",
         duration(t["acknowledge"])),
        ("Contained", when(inc.contained_at or contained_at(steps))),
        ("Time to contain (from report, until every contain step was done or skipped)",
         duration(t["contain"])),
        ("Recovered", when(phase_done_at(steps, "recover"))),
        ("Time to recover (from report, until every recover step was done or skipped)",
         duration(t["recover"])),
        ("Closed", when(inc.closed_at)),
        ("Time to close", duration(t["close"])),
    ]  # fmt: skip
    return tuple(rows)


def extra_sections(extras: Extras) -> tuple[ReportSection, ...]:
    """The ICO decision, takedowns and holding statements. A job that is not part of
    this secbot says so; one with nothing recorded says "None recorded." — never a
    made-up line."""
    ico: ReportSection = (
        Pairs("ICO decision (personal data breach)", extras.ico)
        if extras.ico
        else Bullets(
            "ICO decision (personal data breach)", (),
            NOT_PART if extras.ico is None else "None recorded.",
        )
    )  # fmt: skip
    takedowns = Table(
        "Impersonation takedowns", extras.takedown_headers, extras.takedowns or (),
        empty=NOT_PART if extras.takedowns is None else "None recorded.",
    )  # fmt: skip
    holding = Table(
        "Holding statements", extras.holding_headers, extras.holding or (),
        empty=NOT_PART if extras.holding is None else "None recorded.",
    )  # fmt: skip
    return ico, takedowns, holding


def contents(
    inc: Incident,
    steps: list[StepState],
    events: list[Event],
    pages: list[Any],
    acked_at: datetime | None,
    extras: Extras | None = None,
) -> Report:
    extras = extras or Extras()
    counts = count_pages(pages)
    skipped = tuple(
        f"{s.text}: {s.reason or 'no reason given'}" for s in steps if s.status == "skipped"
    )
    timeline = tuple(
        (when(e.at), e.actor_name, e.text) for e in events if e.kind not in ADMIN_ONLY
    )
    sections: tuple[ReportSection, ...] = (
        Pairs("Timings", timing_rows(inc, steps, events, acked_at)),
        checklist(steps),
        Bullets("Steps skipped and why", skipped),
        *page_tables(counts),
        *extra_sections(extras),
        Table("Timeline", ("Time", "Who", "What"), timeline),
    )
    kind = "Drill report" if inc.drill else "Post-incident report"
    return Report(
        title=f"{kind}: {inc.id}",
        drill=inc.drill,
        summary=siro_summary(inc, steps, counts, acked_at, extras),
        facts=facts(inc),
        sections=sections,
    )
