"""The SQL of personal questions: practice sessions and exam attempts (one person, a
fixed list of questions), and the spaced-repetition cards every answer updates."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlite_utils import Database

from bot.core.model import Actor, Place
from bot.storage.db import transaction
from content.quiz.store.answers import Answer, AnswerResult, answer_rows, insert_answer, save_card
from content.quiz.store.exams import insert_result
from content.quiz.store.schema import iso, parse_time


@dataclass(frozen=True)
class Question:
    item_id: str
    order: list[int]


@dataclass(frozen=True)
class Session:
    """A practice session or an exam attempt: one person, a fixed list of questions."""

    id: int
    kind: str
    user_key: str
    questions: list[Question]
    answered: int
    correct: int
    shown: int
    shown_at: datetime
    status: str
    tag: str
    content_version: str
    started_at: datetime
    finished_at: datetime | None

    @property
    def total(self) -> int:
        return len(self.questions)


def _questions_json(questions: list[Question]) -> str:
    """How a session's questions are stored; :func:`_session` reads them back."""
    return json.dumps([{"item": q.item_id, "order": q.order} for q in questions])


def _session(row) -> Session:
    return Session(
        id=row["id"],
        kind=row["kind"],
        user_key=row["user_key"],
        questions=[Question(q["item"], q["order"]) for q in json.loads(row["questions"])],
        answered=row["answered"],
        correct=row["correct"],
        shown=row["shown"],
        shown_at=parse_time(row["shown_at"]),
        status=row["status"],
        tag=row["tag"],
        content_version=row["content_version"],
        started_at=parse_time(row["started_at"]),
        finished_at=parse_time(row["finished_at"]) if row["finished_at"] else None,
    )


class PracticeStore:
    """Sessions (practice and exam) and spaced-repetition cards."""

    def __init__(self, db: Database):
        self.db = db

    def start_session(
        self,
        kind: str,
        actor: Actor,
        questions: list[Question],
        place: Place,
        now: datetime,
        *,
        tag: str = "",
        content_version: str = "",
    ) -> Session:
        """A new session; a person's unfinished practice session is set aside first.

        For an exam, the partial UNIQUE index allows one active attempt per person; the
        caller resumes an existing one instead of calling this.
        """
        with transaction(self.db) as conn:
            if kind == "practice":
                conn.execute(
                    "UPDATE quiz_sessions SET status = 'abandoned', finished_at = ?"
                    " WHERE user_key = ? AND kind = 'practice' AND status = 'active'",
                    [iso(now), actor.key],
                )
            cur = conn.execute(
                "INSERT INTO quiz_sessions (kind, user_key, user_name, questions, shown_at,"
                " tag, content_version, platform, workspace, channel, started_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    kind,
                    actor.key,
                    actor.name,
                    _questions_json(questions),
                    iso(now),
                    tag,
                    content_version,
                    place.platform,
                    place.workspace,
                    place.channel,
                    iso(now),
                ],
            )
            session_id = int(cur.lastrowid)
        session = self.session(session_id)
        assert session is not None
        return session

    def session(self, session_id: int) -> Session | None:
        row = self.db.execute("SELECT * FROM quiz_sessions WHERE id = ?", [session_id]).fetchone()
        return _session(row) if row else None

    def active_session(self, user_key: str, kind: str) -> Session | None:
        row = self.db.execute(
            "SELECT * FROM quiz_sessions WHERE user_key = ? AND kind = ? AND status = 'active'",
            [user_key, kind],
        ).fetchone()
        return _session(row) if row else None

    def replace_question(self, session_id: int, position: int, question: Question) -> None:
        """Swap in a new item when the stored one has been retired from the content."""
        session = self.session(session_id)
        if session is None:
            return
        questions = list(session.questions)
        questions[position] = question
        self.db.execute(
            "UPDATE quiz_sessions SET questions = ? WHERE id = ?",
            [_questions_json(questions), session_id],
        )

    def show(self, session_id: int, position: int, now: datetime) -> bool:
        """Mark ``position`` as shown now; False if it was already shown (a double click)."""
        cur = self.db.execute(
            "UPDATE quiz_sessions SET shown = ?, shown_at = ? WHERE id = ? AND shown < ?"
            " AND status = 'active'",
            [position, iso(now), session_id, position],
        )
        return cur.rowcount == 1

    def restart_clock(self, session_id: int, now: datetime) -> None:
        """Time to answer counts from when a resumed question is shown again."""
        self.db.execute(
            "UPDATE quiz_sessions SET shown_at = ? WHERE id = ?", [iso(now), session_id]
        )

    def record_session_answer(
        self,
        session_id: int,
        position: int,
        answer: Answer,
        *,
        on_finish: Callable[[int, int], tuple[bool, datetime]] | None = None,
    ) -> AnswerResult:
        """Record the answer to question ``position`` of a session, exactly once.

        When it is the last question the session is finished; for an exam ``on_finish(score,
        total)`` returns (passed, refresher_due) and the result is stored in the same
        transaction, so a completion is never half-recorded.
        """
        actor, now = answer.actor, answer.now
        with transaction(self.db) as conn:
            row = conn.execute("SELECT * FROM quiz_sessions WHERE id = ?", [session_id]).fetchone()
            if row is None or row["user_key"] != actor.key:
                return AnswerResult("not-yours")
            session = _session(row)
            if position < session.answered:
                previous = conn.execute(
                    "SELECT choice FROM quiz_answers WHERE session_id = ? AND position = ?",
                    [session_id, position],
                ).fetchone()
                return AnswerResult("duplicate", previous[0] if previous else None)
            if session.status != "active":
                return AnswerResult("finished")
            if position != session.answered:
                return AnswerResult("stale")
            # Recorded against the item the session holds at this position.
            answer = replace(answer, item_id=session.questions[position].item_id)
            seconds = max(0.0, (now - session.shown_at).total_seconds())
            insert_answer(
                conn, answer, seconds, session.kind, session_id=session_id, position=position
            )
            save_card(conn, answer)
            answered, score = session.answered + 1, session.correct + int(answer.correct)
            done = answered >= session.total
            conn.execute(
                "UPDATE quiz_sessions SET answered = ?, correct = ?, status = ?, finished_at = ?"
                " WHERE id = ?",
                [
                    answered,
                    score,
                    "done" if done else "active",
                    iso(now) if done else None,
                    session_id,
                ],
            )
            if done and session.kind == "exam" and on_finish is not None:
                passed, refresher_due = on_finish(score, session.total)
                insert_result(
                    conn,
                    session_id,
                    actor,
                    score,
                    session.total,
                    passed,
                    session.started_at,
                    now,
                    session.content_version,
                    refresher_due,
                )
        return AnswerResult("recorded")

    def session_answers(self, session_id: int) -> list[dict]:
        return answer_rows(self.db, session_id=session_id)

    def card(self, user_key: str, item_id: str) -> str | None:
        row = self.db.execute(
            "SELECT card FROM quiz_cards WHERE user_key = ? AND item_id = ?", [user_key, item_id]
        ).fetchone()
        return row[0] if row else None

    def card_dues(self, user_key: str) -> dict[str, datetime]:
        rows = self.db.execute(
            "SELECT item_id, due FROM quiz_cards WHERE user_key = ?", [user_key]
        ).fetchall()
        return {r[0]: parse_time(r[1]) for r in rows}

    def due_count(self, user_key: str, now: datetime, item_ids: set[str] | None = None) -> int:
        dues = self.card_dues(user_key)
        return sum(1 for i, d in dues.items() if d <= now and (item_ids is None or i in item_ids))
