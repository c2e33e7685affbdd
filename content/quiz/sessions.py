"""Personal question sessions, practice and exam alike: whose a session is, which item a
position shows (swapping in a live one for a retired item), and recording an answer once.
What follows an answer differs: :mod:`content.quiz.practice` and :mod:`content.quiz.exam`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime

from bot.core import Turn
from bot.core.actions import value_ints
from bot.core.hints import typed
from bot.core.model import Actor
from content.library.models import QuizItem
from content.quiz import engine, render
from content.quiz.shared import QuizShared
from content.quiz.store import Question, Session

log = logging.getLogger(__name__)

# How long the answer that completes an exam waits for the person's name (Slack's
# users.info may be rate limited, and its retries can take minutes): then the name the
# platform gave is kept, and the answer is recorded.
LOOKUP_SECONDS = 3.0


@dataclass(frozen=True)
class Recorded:
    """An answer just recorded in a session: the session as it is now, the position
    answered, its item, the option chosen (an original index) and when."""

    session: Session
    position: int
    item: QuizItem
    choice: int
    now: datetime


class Sessions:
    """What practice sessions and exam attempts share."""

    def __init__(self, shared: QuizShared):
        self.shared = shared
        self.store = shared.store

    async def session_item(self, session: Session, position: int) -> QuizItem | None:
        """The item at ``position``, swapping in a similar one if it has been retired."""
        lib = self.shared.library()
        if lib is None:
            return None
        question = session.questions[position]
        item = lib.item(question.item_id)
        if item is not None:
            return item
        used = {q.item_id for q in session.questions}
        live = [i for i in lib.quiz_items.values() if i.enabled and i.id not in used]
        same = [i for i in live if session.tag in i.tags()] if session.tag else []
        if not live:
            return None
        replacement = self.shared.rng.choice(same or live)
        # Two clicks may swap at once: the first swap wins and both show its item.
        held = await self.store.practice.replace_question(
            session.id, position, question.item_id, Question(replacement.id, question.order)
        )
        if held is None or held.item_id == replacement.id:
            return replacement if held is not None else None
        return lib.item(held.item_id)

    async def item_to_show(
        self, turn: Turn, session: Session, position: int
    ) -> tuple[Session, QuizItem] | None:
        """The item at ``position`` with the session read again (a retired item may just
        have been swapped in), or None once the person has been told there's no content."""
        item = await self.session_item(session, position)
        if item is None:
            await self.shared.no_content(turn)
            return None
        return await self.store.practice.session(session.id) or session, item

    async def own_session(self, turn: Turn, fields: int) -> tuple[tuple[int, ...], Session] | None:
        """The button's ``fields`` numbers and the session the first names, if it is the
        clicker's own; otherwise None, once the clicker has been told so."""
        parsed = value_ints(turn.incoming.value, fields)
        session = await self.store.practice.session(parsed[0]) if parsed else None
        if parsed is None or session is None or session.user_key != turn.actor.key:
            await turn.reply(
                render.private("Sorry, that question isn't part of a session of yours.")
            )
            return None
        return parsed, session

    async def record(self, turn: Turn) -> Recorded | None:
        """``quiz:session``: record an answer in a practice session or an exam, once; None
        when it wasn't recorded, once the person has been told why."""
        found = await self.own_session(turn, 3)
        if found is None:
            return None
        parsed, session = found
        _, position, shown = parsed
        if not 0 <= position < session.total:
            await turn.reply(render.private("Sorry, that question is no longer available."))
            return None
        item = await self.session_item(session, position)
        order = session.questions[position].order
        if item is None or not 0 <= shown < len(order):
            await turn.reply(render.private("Sorry, that question is no longer available."))
            return None
        session = await self.store.practice.session(session.id) or session
        now = self.shared.clock.now()
        choice = order[shown]
        months = self.shared.refresh_months

        def on_finish(score: int, total: int) -> tuple[bool, datetime]:
            return engine.exam_passed(score, total), engine.add_months(now, months)

        answer = self.shared.answer(turn, item, choice, now)
        if session.kind == "exam" and position == session.answered == session.total - 1:
            # The answer that completes the exam: its record names the person.
            answer = replace(answer, actor=await named(turn))
        result = await self.store.practice.record_session_answer(
            session.id, position, answer, on_finish=on_finish
        )
        where = turn.place
        if result.status == "duplicate":
            hints = []
            current = await self.store.practice.session(session.id) or session
            if current.kind == "exam" and current.status == "active":
                # Say how to carry on, in case the next question never arrived.
                hints.append(
                    f"You're on question {current.answered + 1} of {current.total}. Type"
                    f" {typed(turn.place, 'quiz exam')} to carry on."
                )
            await turn.reply(render.already_answered(item, order, result.previous_choice, *hints))
            return None
        if result.status == "stale":
            current = await self.store.practice.session(session.id) or session
            await turn.reply(
                render.private(
                    f"You're on question {current.answered + 1} of {current.total}: please"
                    " answer that one first."
                )
            )
            return None
        if result.status != "recorded":
            again = "quiz exam" if session.kind == "exam" else "quiz me"
            await turn.reply(
                render.private(
                    "That session has already finished, so your answer wasn't recorded.",
                    f"Type {typed(where, again)} to start again.",
                )
            )
            return None
        session = await self.store.practice.session(session.id) or session
        return Recorded(session, position, item, choice, now)


async def named(turn: Turn) -> Actor:
    """The person answering, under the name their platform shows people.

    Slack's clicks and slash commands carry a legacy handle ("ann.smith"), not a name;
    the exam record keeps the name it is given, and the xAPI statement and the exam
    report read it from there. So the answer that completes an exam asks the platform
    (``lookup``), once per completion, never per click, and only where the name may be a
    handle (``names_are_handles``): Teams and the web chat already give the display name.
    A failure, or no answer within :data:`LOOKUP_SECONDS`, keeps the name given."""
    actor = turn.actor
    transport = turn.services.transports.get(actor.platform)
    if transport is None or actor.platform != turn.place.platform:
        return actor
    if not transport.names_are_handles:
        return actor
    try:
        async with asyncio.timeout(LOOKUP_SECONDS):
            found = await transport.lookup(
                turn.place.workspace, actor.user_id, where=turn.place
            )
    except TimeoutError:
        log.info("the exam taker's name took too long to look up: kept the one given")
        return actor
    except Exception as e:  # noqa: BLE001 - the name the platform gave will do
        log.info("could not look the exam taker's name up (%s)", type(e).__name__)
        return actor
    if found is None or not found.name or found.name == actor.user_id:
        return actor
    return Actor(actor.platform, actor.user_id, found.name)
