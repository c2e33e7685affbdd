"""The team report: who has passed the exam, who is overdue, scores, and the topics and
principles the team's exam answers show it knows least. Data first (:class:`TeamReport`),
then two renderings: a chat summary and a CSV for the manager's spreadsheet.

Everything is read in a handful of queries (keys in chunks of 500), so a team of
thousands costs the same few round trips as a team of ten.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.core.inert import inert, one_line
from content.library.models import MODULE_LABELS, PRINCIPLE_LABELS, TOPIC_LABELS
from content.tips.schedule import due_instant
from content.training import records
from content.training.nudges import LONDON

if TYPE_CHECKING:
    from bot.storage.sql import Db
    from content.training.store import Assignment

WEAKEST = 3  # topics and principles named in the summary
MIN_ANSWERS = 3  # a topic needs this many answers before it is called weak
LOOK_BACK = timedelta(days=366)  # answers counted for the weakest topics

PASSED, OVERDUE, DUE, NOT_PASSED, NOT_ASSIGNED = (
    "Passed",
    "Overdue",
    "Due",
    "Not passed",
    "Not assigned",
)
CSV_HEADER = ("Name", "Status", "Due by", "Passed on", "Last score", "Refresher due")


@dataclass(frozen=True)
class PersonRow:
    name: str
    status: str
    due_on: date | None
    passed_on: date | None
    score: str  # "9/10", or "" when never taken
    percent: float | None
    refresher_due: date | None


@dataclass(frozen=True)
class Weak:
    label: str
    right: float  # share of answers that were right, 0..1
    answers: int


@dataclass
class TeamReport:
    team: str
    rows: list[PersonRow]
    topics: list[Weak] = field(default_factory=list)
    principles: list[Weak] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def average(self) -> float | None:
        scores = [r.percent for r in self.rows if r.percent is not None]
        return sum(scores) / len(scores) if scores else None


def _day(at: datetime | None) -> date | None:
    return at.astimezone(LONDON).date() if at is not None else None


def status_of(assignment: Assignment | None, passed: records.Attempt | None, now: datetime) -> str:
    today = now.astimezone(LONDON).date()
    if assignment is None:
        return PASSED if passed is not None and passed.refresher_due > now else NOT_ASSIGNED
    due_start = due_instant(assignment.due_on, time(0, 0), LONDON)
    if records.completes(passed, assignment.assigned_at, due_start):
        return PASSED
    return OVERDUE if assignment.due_on < today else DUE


def _weakest(tallies: dict[str, list[int]], labels: dict[str, str]) -> list[Weak]:
    found = [
        Weak(labels.get(key, key), right / answered, answered)
        for key, (answered, right) in tallies.items()
        if answered >= MIN_ANSWERS
    ]
    return sorted(found, key=lambda w: (w.right, w.label))[:WEAKEST]


async def build(
    db: Db,
    team: str,
    people: list[tuple[str, str]],
    assignments: dict[str, Assignment],
    now: datetime,
    library: object | None,
) -> TeamReport:
    """The report for ``people`` ((key, name) each) with their assignments."""
    keys = [k for k, _ in people]
    last, passes = await records.latest(db, keys)
    rows = []
    for key, name in people:
        attempt, passed = last.get(key), passes.get(key)
        a = assignments.get(key)
        rows.append(
            PersonRow(
                name=name,
                status=status_of(a, passed, now),
                due_on=a.due_on if a else None,
                passed_on=_day(passed.completed_at) if passed else None,
                score=f"{attempt.score}/{attempt.total}" if attempt else "",
                percent=100 * attempt.score / attempt.total if attempt and attempt.total else None,
                refresher_due=_day(passed.refresher_due) if passed else None,
            )
        )
    rows.sort(key=lambda r: (r.status != OVERDUE, r.name.casefold()))
    topics: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    principles: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    item_of = getattr(library, "item", None)
    for t in await records.exam_tallies(db, keys, now - LOOK_BACK):
        item = item_of(t.item_id) if item_of else None
        for topic in getattr(item, "topics", None) or [t.module]:
            topics[topic][0] += t.answered
            topics[topic][1] += t.correct
        principles[t.principle][0] += t.answered
        principles[t.principle][1] += t.correct
    return TeamReport(
        team,
        rows,
        _weakest(topics, {**MODULE_LABELS, **TOPIC_LABELS}),
        _weakest(principles, PRINCIPLE_LABELS),
    )


def _weak_text(weak: list[Weak]) -> str:
    return "; ".join(f"{w.label} ({w.right:.0%} right of {w.answers})" for w in weak)


def summary_lines(report: TeamReport) -> list[str]:
    n = len(report.rows)
    lines = [
        f"{n} {'person' if n == 1 else 'people'}: {report.count(PASSED)} passed,"
        f" {report.count(OVERDUE)} overdue, {report.count(DUE)} due later,"
        f" {report.count(NOT_ASSIGNED)} not assigned.",
    ]
    avg = report.average
    lines.append(
        f"Average last exam score: {avg:.0f}%."
        if avg is not None
        else "Nobody has taken the exam yet."
    )
    if report.topics:
        lines.append(f"Weakest topics: {_weak_text(report.topics)}.")
    if report.principles:
        lines.append(f"Weakest principles: {_weak_text(report.principles)}.")
    return lines


def overdue_names(report: TeamReport, limit: int = 20) -> tuple[list[str], int]:
    names = [r.name for r in report.rows if r.status == OVERDUE]
    return names[:limit], max(0, len(names) - limit)


def csv_cell(text: str) -> str:
    """Inert text that a spreadsheet will not run as a formula."""
    text = one_line(inert(text), 200)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def to_csv(report: TeamReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in report.rows:
        writer.writerow(
            (
                csv_cell(r.name),
                r.status,
                _iso(r.due_on),
                _iso(r.passed_on),
                r.score,
                _iso(r.refresher_due),
            )
        )
    return out.getvalue()
