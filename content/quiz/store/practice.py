"""The queries of personal questions: practice sessions and exam attempts (one person, a
fixed list of questions), and the spaced-repetition cards every answer updates."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import bindparam, select, update

from bot.core.model import Actor, Place
from bot.storage.sql import Db, atomic, execute, serialize
from content.quiz.store.answers import Answer, AnswerResult, answer_rows, insert_answer, save_card
from content.quiz.store.exams import insert_result
from content.quiz.store.tables import new_id, quiz_answers, quiz_cards, quiz_sessions


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
        id=row.id,
        kind=row.kind,
        user_key=row.user_key,
        questions=[Question(q["item"], q["order"]) for q in json.loads(row.questions)],
        answered=row.answered,
        correct=row.correct,
        shown=row.shown,
        shown_at=row.shown_at,
        status=row.status,
        tag=row.tag,
        content_version=row.content_version,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


# Statements are built once, here, and run with their parameters: building one costs
# more than running it, and a burst of clicks runs these hundreds of times a second.
_s, _a, _c = quiz_sessions.c, quiz_answers.c, quiz_cards.c
_SESSION_ID = _s.id == bindparam("session_id")
_ABANDON_PRACTICE = (
    update(quiz_sessions)
    .where((_s.user_key == bindparam("person")) & (_s.kind == "practice") & (_s.status == "active"))
    .values(status="abandoned", finished_at=bindparam("now"))
)
_INSERT_SESSION = quiz_sessions.insert()
_SESSION = select(quiz_sessions).where(_SESSION_ID)
# The session's row when it decides a write (an answer, a swapped question): locked.
_SESSION_FOR_UPDATE = _SESSION.with_for_update()
_ACTIVE_SESSION = select(quiz_sessions).where(
    (_s.user_key == bindparam("user_key"))
    & (_s.kind == bindparam("kind"))
    & (_s.status == "active")
)
_ACTIVE_EXAM_FOR_UPDATE = _ACTIVE_SESSION.params(kind="exam").with_for_update()
# Compare-and-set: the questions are replaced only if they are still the ones read.
_SET_QUESTIONS = (
    update(quiz_sessions)
    .where(_SESSION_ID & (_s.questions == bindparam("seen")))
    .values(questions=bindparam("questions"))
)
_SHOW = (
    update(quiz_sessions)
    .where(_SESSION_ID & (_s.shown < bindparam("position")) & (_s.status == "active"))
    .values(shown=bindparam("position"), shown_at=bindparam("now"))
)
_RESTART_CLOCK = update(quiz_sessions).where(_SESSION_ID).values(shown_at=bindparam("now"))
_CHOICE_AT = select(_a.choice).where(
    (_a.session_id == bindparam("session_id")) & (_a.position == bindparam("position"))
)
# Conditional on the count read, so two answers can never both move it on.
_TALLY = (
    update(quiz_sessions)
    .where(_SESSION_ID & (_s.answered == bindparam("seen")) & (_s.status == "active"))
    .values(
        answered=bindparam("answered"),
        correct=bindparam("score"),
        status=bindparam("status"),
        finished_at=bindparam("finished_at"),
    )
)
_CARD = select(_c.card).where(
    (_c.user_key == bindparam("user_key")) & (_c.item_id == bindparam("item_id"))
)
_CARD_DUES = select(_c.item_id, _c.due).where(_c.user_key == bindparam("user_key"))


class TallyConflict(RuntimeError):
    """A session's tally moved under an answer holding its row's lock (never expected)."""


class PracticeStore:
    """Sessions (practice and exam) and spaced-repetition cards."""

    def __init__(self, db: Db):
        self.db = db

    async def start_session(
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

        One person has at most one active exam attempt (a partial UNIQUE index): if one
        is active already (two ``/quiz exam`` at once), that attempt is returned instead,
        from the same transaction that would have created it.
        """
        async with atomic(self.db):
            if kind == "exam":
                # No row to lock when there is no attempt yet: two starts at once queue
                # here (PostgreSQL; SQLite's write lock already does), so the second finds
                # the first's attempt instead of breaking the one-active-exam index.
                await serialize(self.db, f"quiz-exam:{actor.key}")
                active = (
                    await execute(self.db, _ACTIVE_EXAM_FOR_UPDATE, {"user_key": actor.key})
                ).first()
                if active is not None:
                    return _session(active)
            else:
                await execute(self.db, _ABANDON_PRACTICE, {"person": actor.key, "now": now})
            created = await execute(
                self.db,
                _INSERT_SESSION,
                {
                    "kind": kind,
                    "user_key": actor.key,
                    "user_name": actor.name,
                    "questions": _questions_json(questions),
                    "shown_at": now,
                    "tag": tag,
                    "content_version": content_version,
                    "platform": place.platform,
                    "workspace": place.workspace,
                    "channel": place.channel,
                    "started_at": now,
                },
            )
            session = await self.session(new_id(created))
        assert session is not None
        return session

    async def session(self, session_id: int) -> Session | None:
        row = (await execute(self.db, _SESSION, {"session_id": session_id})).first()
        return _session(row) if row else None

    async def active_session(self, user_key: str, kind: str) -> Session | None:
        found = await execute(self.db, _ACTIVE_SESSION, {"user_key": user_key, "kind": kind})
        row = found.first()
        return _session(row) if row else None

    async def replace_question(
        self, session_id: int, position: int, retired: str, question: Question
    ) -> Question | None:
        """Swap ``question`` in at ``position`` for the item ``retired`` from the content;
        returns the question the session now holds there (None: no such session).

        Two people (or two clicks) swapping at once: the first swap wins and the second
        gets the first's question back, so everyone is shown, and answers, the same item.
        The row is read ``FOR UPDATE`` and written only if its questions are still the
        ones read (compare-and-set), so no swap at another position is overwritten.
        """
        async with atomic(self.db):
            row = (await execute(self.db, _SESSION_FOR_UPDATE, {"session_id": session_id})).first()
            if row is None:
                return None
            current = _session(row).questions[position]
            if current.item_id != retired:
                return current  # swapped already
            questions = list(_session(row).questions)
            questions[position] = question
            swapped = await execute(
                self.db,
                _SET_QUESTIONS,
                {
                    "session_id": session_id,
                    "seen": row.questions,
                    "questions": _questions_json(questions),
                },
            )
            if swapped.rowcount != 1:  # not on either database, with the lock held
                return None
        return question

    async def show(self, session_id: int, position: int, now: datetime) -> bool:
        """Mark ``position`` as shown now; False if it was already shown (a double click).
        One conditional UPDATE, so of two clicks exactly one wins."""
        shown = await execute(
            self.db, _SHOW, {"session_id": session_id, "position": position, "now": now}
        )
        return shown.rowcount == 1

    async def restart_clock(self, session_id: int, now: datetime) -> None:
        """Time to answer counts from when a resumed question is shown again."""
        await execute(self.db, _RESTART_CLOCK, {"session_id": session_id, "now": now})

    async def record_session_answer(
        self,
        session_id: int,
        position: int,
        answer: Answer,
        *,
        on_finish: Callable[[int, int], tuple[bool, datetime]] | None = None,
    ) -> AnswerResult:
        """Record the answer to question ``position`` of a session, exactly once.

        One transaction with the session's row read ``FOR UPDATE``: the answer, the
        person's card and the session's tally commit together or not at all, and the
        tally moves only from the count read (a conditional UPDATE). When it is the last
        question the session is finished; for an exam ``on_finish(score, total)`` returns
        (passed, refresher_due) and the result is stored in the same transaction, so a
        completion is never half-recorded (and UNIQUE(session_id) records it once).
        """
        actor, now = answer.actor, answer.now
        async with atomic(self.db):
            row = (await execute(self.db, _SESSION_FOR_UPDATE, {"session_id": session_id})).first()
            if row is None or row.user_key != actor.key:
                return AnswerResult("not-yours")
            session = _session(row)
            if position < session.answered:
                previous = (
                    await execute(
                        self.db, _CHOICE_AT, {"session_id": session_id, "position": position}
                    )
                ).scalar()
                return AnswerResult("duplicate", previous)
            if session.status != "active":
                return AnswerResult("finished")
            if position != session.answered:
                return AnswerResult("stale")
            # Recorded against the item the session holds at this position.
            answer = replace(answer, item_id=session.questions[position].item_id)
            seconds = max(0.0, (now - session.shown_at).total_seconds())
            await insert_answer(
                self.db, answer, seconds, session.kind, session_id=session_id, position=position
            )
            await save_card(self.db, answer)
            answered, score = session.answered + 1, session.correct + int(answer.correct)
            done = answered >= session.total
            tallied = await execute(
                self.db,
                _TALLY,
                {
                    "session_id": session_id,
                    "seen": session.answered,
                    "answered": answered,
                    "score": score,
                    "status": "done" if done else "active",
                    "finished_at": now if done else None,
                },
            )
            if tallied.rowcount != 1:  # rolls the answer back with it
                raise TallyConflict(f"session {session_id} moved under an answer")
            if done and session.kind == "exam" and on_finish is not None:
                passed, refresher_due = on_finish(score, session.total)
                await insert_result(
                    self.db,
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

    async def session_answers(self, session_id: int) -> list[dict]:
        return await answer_rows(self.db, session_id=session_id)

    async def card(self, user_key: str, item_id: str) -> str | None:
        found = await execute(self.db, _CARD, {"user_key": user_key, "item_id": item_id})
        return found.scalar()

    async def card_dues(self, user_key: str) -> dict[str, datetime]:
        rows = (await execute(self.db, _CARD_DUES, {"user_key": user_key})).all()
        return {r.item_id: r.due for r in rows}

    async def due_count(
        self, user_key: str, now: datetime, item_ids: set[str] | None = None
    ) -> int:
        dues = await self.card_dues(user_key)
        return sum(1 for i, d in dues.items() if d <= now and (item_ids is None or i in item_ids))
