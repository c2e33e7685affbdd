"""The SQL of exam results: one row per completed attempt, written in the same
transaction as the attempt's last answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.core.model import Actor
from content.quiz.store.schema import iso, parse_time


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
        session_id=row["session_id"],
        user_key=row["user_key"],
        user_name=row["user_name"],
        score=row["score"],
        total=row["total"],
        passed=bool(row["passed"]),
        started_at=parse_time(row["started_at"]),
        completed_at=parse_time(row["completed_at"]),
        content_version=row["content_version"],
        refresher_due=parse_time(row["refresher_due"]),
    )


def insert_result(
    conn,
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
    conn.execute(
        "INSERT INTO quiz_exam_results (session_id, user_key, user_name, score,"
        " total, passed, started_at, completed_at, content_version, refresher_due)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            session_id,
            actor.key,
            actor.name,
            score,
            total,
            int(passed),
            iso(started_at),
            iso(now),
            content_version,
            iso(refresher_due),
        ],
    )


class ExamStore:
    """Exam completions: a person's last attempt and pass, and the report's list."""

    def __init__(self, db: Database):
        self.db = db

    def exam_result(self, session_id: int) -> ExamResult | None:
        row = self.db.execute(
            "SELECT * FROM quiz_exam_results WHERE session_id = ?", [session_id]
        ).fetchone()
        return _exam(row) if row else None

    def last_exam(self, user_key: str) -> ExamResult | None:
        row = self.db.execute(
            "SELECT * FROM quiz_exam_results WHERE user_key = ? ORDER BY completed_at DESC,"
            " id DESC LIMIT 1",
            [user_key],
        ).fetchone()
        return _exam(row) if row else None

    def last_pass(self, user_key: str) -> ExamResult | None:
        row = self.db.execute(
            "SELECT * FROM quiz_exam_results WHERE user_key = ? AND passed = 1"
            " ORDER BY completed_at DESC, id DESC LIMIT 1",
            [user_key],
        ).fetchone()
        return _exam(row) if row else None

    def exam_results(self, limit: int = 100) -> tuple[list[ExamResult], int]:
        """The most recent completions, newest first, and how many there are in all."""
        total = self.db.execute("SELECT COUNT(*) FROM quiz_exam_results").fetchone()[0]
        rows = self.db.execute(
            "SELECT * FROM quiz_exam_results ORDER BY completed_at DESC, id DESC LIMIT ?",
            [limit],
        ).fetchall()
        return [_exam(r) for r in rows], int(total)
