"""The queries of exam results: one row per completed attempt, written in the same
transaction as the attempt's last answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select

from bot.core.model import Actor
from bot.storage.sql import Db, atomic, execute
from content.quiz.store.tables import quiz_exam_results, quiz_sessions


@dataclass(frozen=True)
class ExamResult:
    session_id: int
    user_key: str
    user_name: str
    score: int
    total: int
    passed: bool
    started_at: datetime
    completed_at: datetime
    content_version: str
    refresher_due: datetime


def _exam(row) -> ExamResult:
    return ExamResult(
        session_id=row.session_id,
        user_key=row.user_key,
        user_name=row.user_name,
        score=row.score,
        total=row.total,
        passed=bool(row.passed),
        started_at=row.started_at,
        completed_at=row.completed_at,
        content_version=row.content_version,
        refresher_due=row.refresher_due,
    )


# Statements are built once, here, and run with their parameters.
_e = quiz_exam_results.c
_NEWEST_FIRST = (_e.completed_at.desc(), _e.id.desc())
_INSERT_RESULT = quiz_exam_results.insert()
_RESULT = select(quiz_exam_results).where(_e.session_id == bindparam("session_id"))
_OF_USER = _e.user_key == bindparam("user_key")
_LAST_EXAM = select(quiz_exam_results).where(_OF_USER).order_by(*_NEWEST_FIRST).limit(1)
_LAST_PASS = (
    select(quiz_exam_results).where(_OF_USER & (_e.passed == 1)).order_by(*_NEWEST_FIRST).limit(1)
)
# An exam report covers one workspace or tenant: the one its session was taken in (an
# admin of one organisation never reads another's people and results).
_s = quiz_sessions.c
_WITH_SESSION = quiz_exam_results.join(quiz_sessions, _s.id == _e.session_id)
_IN_WORKSPACE = (_s.platform == bindparam("platform")) & (_s.workspace == bindparam("workspace"))
_COUNT = select(func.count()).select_from(_WITH_SESSION).where(_IN_WORKSPACE)
_RECENT = (
    select(quiz_exam_results)
    .select_from(_WITH_SESSION)
    .where(_IN_WORKSPACE)
    .order_by(*_NEWEST_FIRST)
    .limit(bindparam("limit"))
)


async def insert_result(
    db: Db,
    session_id: int,
    actor: Actor,
    score: int,
    total: int,
    passed: bool,
    started_at: datetime,
    now: datetime,
    content_version: str,
    refresher_due: datetime,
) -> None:
    """The attempt's result, in the transaction of its last answer (the caller's ``atomic``):
    UNIQUE(session_id) means a completion is recorded once, whatever races."""
    await execute(
        db,
        _INSERT_RESULT,
        {
            "session_id": session_id,
            "user_key": actor.key,
            "user_name": actor.name,
            "score": score,
            "total": total,
            "passed": int(passed),
            "started_at": started_at,
            "completed_at": now,
            "content_version": content_version,
            "refresher_due": refresher_due,
        },
    )


class ExamStore:
    """Exam completions: a person's last attempt and pass, and the report's list."""

    def __init__(self, db: Db):
        self.db = db

    async def exam_result(self, session_id: int) -> ExamResult | None:
        row = (await execute(self.db, _RESULT, {"session_id": session_id})).first()
        return _exam(row) if row else None

    async def last_exam(self, user_key: str) -> ExamResult | None:
        row = (await execute(self.db, _LAST_EXAM, {"user_key": user_key})).first()
        return _exam(row) if row else None

    async def last_pass(self, user_key: str) -> ExamResult | None:
        row = (await execute(self.db, _LAST_PASS, {"user_key": user_key})).first()
        return _exam(row) if row else None

    async def exam_results(
        self, platform: str, workspace: str, limit: int = 100
    ) -> tuple[list[ExamResult], int]:
        """The most recent completions of exams taken in one workspace or tenant, newest
        first, and how many there are in all (read in one transaction, so the count and
        the list agree)."""
        where = {"platform": platform, "workspace": workspace}
        async with atomic(self.db):
            total: int = (await execute(self.db, _COUNT, where)).scalar_one()
            rows = (await execute(self.db, _RECENT, {**where, "limit": limit})).all()
        return [_exam(r) for r in rows], int(total)
