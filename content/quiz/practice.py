"""Practice: ``/quiz me [tag]`` (or /quiz in a direct message) asks five personal
questions chosen by spaced repetition, one at a time with feedback after each; the
"Quiz me on this" question under a daily tip is recorded here too."""

from __future__ import annotations

from bot.core import Turn
from bot.core.hints import typed
from content.library.models import QuizItem
from content.quiz import engine, render
from content.quiz.sessions import Recorded, Sessions
from content.quiz.shared import QuizShared
from content.quiz.store import AnswerResult, Question


class Practice:
    """Practice sessions and answers to questions asked under a tip."""

    def __init__(self, shared: QuizShared, sessions: Sessions):
        self.shared = shared
        self.store = shared.store
        self.sessions = sessions

    async def start(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz me [tag]``: five questions chosen by spaced repetition, one at a time."""
        found = await self.shared.library_items(turn, request.tag)
        if found is None:
            return
        lib, items = found
        now = self.shared.clock.now()
        key = turn.actor.key
        chosen = engine.choose_practice(
            items,
            await self.store.practice.card_dues(key),
            await self.shared.scores(key),
            now,
            self.shared.rng,
        )
        questions = [
            Question(i.id, engine.option_order(self.shared.rng, len(i.options))) for i in chosen
        ]
        session = await self.store.practice.start_session(
            "practice",
            turn.actor,
            questions,
            turn.place,
            now,
            tag=request.tag,
            content_version=lib.version,
        )
        note = (
            "Questions due for review come first, then new ones, leaning towards your weakest area."
        )
        if request.duration:
            note = "Timed questions are for channels, so here is a practice session. " + note
        await turn.reply(
            render.session_question(
                session, 0, chosen[0], is_private=self.shared.private(turn), note=note
            )
        )

    async def answered(self, turn: Turn, recorded: Recorded) -> None:
        """After an answer: the feedback, and the summary after the last question."""
        session = recorded.session
        where = turn.place
        summary = None
        if session.status == "done":
            summary = render.practice_summary(
                session.correct,
                session.total,
                await self.shared.session_scores(session.id, "principle"),
                where,
            )
        await turn.update_original(
            render.practice_feedback(
                session,
                recorded.position,
                recorded.item,
                recorded.choice,
                is_private=self.shared.private(turn),
                summary=summary,
            )
        )

    async def next_question(self, turn: Turn) -> None:
        """``quiz:next``: show the next practice question (once, however often it's clicked)."""
        found = await self.sessions.own_session(turn, 2)
        if found is None:
            return
        parsed, session = found
        position = parsed[1]
        where = turn.place
        if session.status != "active":
            await turn.reply(
                render.private(
                    "That practice session has finished.",
                    f"Type {typed(where, 'quiz me')} for another five questions.",
                )
            )
            return
        if position == session.answered and session.shown >= position:
            return  # a double click: the question is already on its way
        if position != session.answered or not await self.store.practice.show(
            session.id, position, self.shared.clock.now()
        ):
            await turn.reply(
                render.private(
                    f"You're on question {session.answered + 1} of {session.total}: it's"
                    " already below."
                )
            )
            return
        found_item = await self.sessions.item_to_show(turn, session, position)
        if found_item is None:
            return
        session, item = found_item
        await turn.reply(
            render.session_question(session, position, item, is_private=self.shared.private(turn))
        )

    # --- questions asked elsewhere (the "Quiz me on this" button on a daily tip) ----------

    async def tip_question_shown(self, turn: Turn, item: QuizItem, tip_id: str) -> None:
        """Note that ``item`` was put to the person under a tip, so the answer's time and
        its once-only recording have something to go by."""
        await self.store.prompts.prompt_shown(
            "tip", tip_id, turn.actor, turn.place, item.id, self.shared.clock.now()
        )

    async def record_tip_answer(self, turn: Turn, item: QuizItem, choice: int) -> AnswerResult:
        """Record an answer to a tip's question like any other: stored with the context
        ``tip`` and applied to the person's spaced-repetition card, once per question shown.
        """
        now = self.shared.clock.now()
        return await self.store.prompts.record_prompt_answer(
            "tip",
            self.shared.answer(turn, item, choice, now),
        )
