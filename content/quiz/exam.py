"""The exam: ``/quiz exam`` starts ten questions (or carries on with the attempt in
progress), with no feedback until the end; then the result and a review of every wrong
answer (:mod:`content.quiz.review`). A pass lasts ``SECBOT_EXAM_REFRESH_MONTHS``."""

from __future__ import annotations

import logging

from bot.core import Turn
from bot.core.hints import typed
from bot.core.model import Place
from content.quiz import engine, render, review
from content.quiz.sessions import Recorded, Sessions
from content.quiz.shared import QuizShared
from content.quiz.store import Question

log = logging.getLogger(__name__)


class Exam:
    """Exam attempts: start or resume, the next question, the result and its review."""

    def __init__(self, shared: QuizShared, sessions: Sessions):
        self.shared = shared
        self.store = shared.store
        self.sessions = sessions

    async def start(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz exam``: start the exam, or carry on with the one in progress."""
        lib = self.shared.library()
        if lib is None:
            await self.shared.no_content(turn)
            return
        now = self.shared.clock.now()
        session = await self.store.practice.active_session(turn.actor.key, "exam")
        if session is None:
            try:
                chosen = engine.compose_exam(
                    [i for i in lib.quiz_items.values() if i.enabled], self.shared.rng
                )
            except engine.ExamUnavailable:
                log.warning("the exam can't be composed from the current content")
                await turn.reply(
                    render.private(
                        "Sorry, the exam can't be put together from the current questions."
                        " Please ask your secbot administrator to check the content."
                    )
                )
                return
            questions = [
                Question(i.id, engine.option_order(self.shared.rng, len(i.options))) for i in chosen
            ]
            session = await self.store.practice.start_session(
                "exam", turn.actor, questions, turn.place, now, content_version=lib.version
            )
        else:
            await self.store.practice.restart_clock(session.id, now)
        position = session.answered
        found_item = await self.sessions.item_to_show(turn, session, position)
        if found_item is None:
            return
        session, item = found_item
        await turn.reply(
            render.session_question(
                session,
                position,
                item,
                is_private=self.shared.private(turn),
                note=render.exam_intro(position, session.total),
            )
        )

    async def answered(self, turn: Turn, recorded: Recorded) -> None:
        """After an answer: the next question, or the result with the review at the end."""
        session, position = recorded.session, recorded.position
        where = turn.place
        is_private = self.shared.private(turn)
        now = recorded.now
        if session.status == "done":
            exam = await self.store.exams.exam_result(session.id)
            assert exam is not None
            wrong, retired = review.mistakes(
                session,
                await self.store.practice.session_answers(session.id),
                self.shared.library(),
            )
            await turn.update_original(
                render.exam_result(
                    exam,
                    await self.shared.session_scores(session.id, "module"),
                    self.shared.tz,
                    where,
                    is_private=is_private,
                    review=review.review_blocks(wrong, retired),
                    review_note=review.review_text(wrong, retired),
                )
            )
            return
        following = position + 1
        await self.store.practice.show(session.id, following, now)
        found_item = await self.sessions.item_to_show(turn, session, following)
        if found_item is None:
            return
        session, next_item = found_item
        await turn.update_original(
            render.session_question(
                session, following, next_item, is_private=is_private, note="Answer recorded."
            )
        )

    async def status(self, user_key: str, where: Place) -> str:
        tz = self.shared.tz
        exam = typed(where, "quiz exam")
        active = await self.store.practice.active_session(user_key, "exam")
        if active is not None:
            return (
                f"In progress: {active.answered} of {active.total} answered."
                f" Type {exam} to carry on."
            )
        passed = await self.store.exams.last_pass(user_key)
        if passed is not None:
            on = engine.long_date(passed.completed_at.astimezone(tz).date())
            due = engine.long_date(passed.refresher_due.astimezone(tz).date())
            if passed.refresher_due <= self.shared.clock.now():
                return f"Passed on {on}. Your refresher was due by {due}: type {exam}."
            return f"Passed on {on} ({passed.score} of {passed.total}). Refresher due by {due}."
        last = await self.store.exams.last_exam(user_key)
        if last is not None:
            on = engine.long_date(last.completed_at.astimezone(tz).date())
            return (
                f"Not passed yet: {last.score} of {last.total} on {on}. Type {exam} to try again."
            )
        return f"Not taken yet. Type {exam} to take it."
