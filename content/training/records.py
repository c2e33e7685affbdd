"""What the exam records say about a group of people: each one's last pass and last
attempt, and how the group answered each exam question. Read from the quiz's own tables
(``quiz_exam_results``, ``quiz_answers``), so completion is never recorded twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from bot.storage.sql import execute
from content.quiz.store.tables import quiz_answers as qa
from content.quiz.store.tables import quiz_exam_results as qe

if TYPE_CHECKING:
    from bot.storage.sql import Db

CHUNK = 500  # keys per IN (...) list: well under every database's limit


@dataclass(frozen=True)
class Attempt:
    completed_at: datetime
    score: int
    total: int
    passed: bool
    refresher_due: datetime


@dataclass(frozen=True)
class ItemTally:
    item_id: str
    module: str
    principle: str
    answered: int
    correct: int


def _chunks(keys: list[str]) -> list[list[str]]:
    return [keys[i : i + CHUNK] for i in range(0, len(keys), CHUNK)]


async def latest(db: Db, keys: list[str]) -> tuple[dict[str, Attempt], dict[str, Attempt]]:
    """Each person's newest attempt, and newest pass (people with none are left out)."""
    last: dict[str, Attempt] = {}
    passed: dict[str, Attempt] = {}
    for chunk in _chunks(keys):
        stmt = (
            select(
                qe.c.user_key,
                qe.c.completed_at,
                qe.c.score,
                qe.c.total,
                qe.c.passed,
                qe.c.refresher_due,
            )
            .where(qe.c.user_key.in_(chunk))
            .order_by(qe.c.completed_at, qe.c.id)
        )
        for row in (await execute(db, stmt)).all():
            attempt = Attempt(
                row.completed_at, row.score, row.total, bool(row.passed), row.refresher_due
            )
            last[row.user_key] = attempt  # ascending: the newest wins
            if attempt.passed:
                passed[row.user_key] = attempt
    return last, passed


async def exam_tallies(db: Db, keys: list[str], since: datetime) -> list[ItemTally]:
    """How these people answered each exam question since ``since``."""
    totals: dict[tuple[str, str, str], list[int]] = {}
    for chunk in _chunks(keys):
        stmt = (
            select(qa.c.item_id, qa.c.module, qa.c.principle, func.count(), func.sum(qa.c.correct))
            .where(qa.c.context == "exam", qa.c.user_key.in_(chunk), qa.c.answered_at >= since)
            .group_by(qa.c.item_id, qa.c.module, qa.c.principle)
        )
        for row in (await execute(db, stmt)).all():
            key = (str(row[0]), str(row[1]), str(row[2]))
            tally = totals.setdefault(key, [0, 0])
            tally[0] += int(row[3])
            tally[1] += int(row[4] or 0)
    return [ItemTally(i, m, p, a, c) for (i, m, p), (a, c) in sorted(totals.items())]


def completes(passed: Attempt | None, assigned_at: datetime, due_on_start: datetime) -> bool:
    """An assignment is complete when the person passed after it was set, or holds a
    pass that is still current on the due date (no one is made to resit early)."""
    if passed is None:
        return False
    return passed.completed_at >= assigned_at or passed.refresher_due > due_on_start
