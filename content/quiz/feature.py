"""``/quiz``: where every quiz command and button is handled.

Start here. :func:`setup` registers the ``quiz`` command, the ``quiz:*`` buttons, the
store's migrations and the worker that closes timed questions. :meth:`Quiz.command`
sends each form of ``/quiz`` to one method:

==============================  ===========================  ==========================
``/quiz``, ``/quiz 10m``,       :meth:`Quiz.post_question`   a question in a channel
``/quiz <tag>``
``/quiz me`` (or quiz in a DM)  :meth:`Quiz.start_practice`  five personal questions
``/quiz exam``                  :meth:`Quiz.start_exam`      ten questions, 80% to pass,
                                                             then a review of mistakes
``/quiz stats``                 :meth:`Quiz.stats`           accuracy, streak, exam
``/quiz leaderboard [off|on]``  :meth:`Quiz.leaderboard`     this month's top ten
``/quiz report``                :meth:`Quiz.report`          exam completions (admins)
==============================  ===========================  ==========================

Buttons: ``quiz:answer`` (value ``post_id:option``), ``quiz:close`` (``post_id``),
``quiz:session`` (``session_id:position:option``) and ``quiz:next``
(``session_id:position``). The daily tips' "Quiz me on this" question records its answers
here too (:meth:`Quiz.record_tip_answer`). The SQL is in :mod:`content.quiz.store`, the rules
(shuffling, spaced repetition, exam composition, streaks) in :mod:`content.quiz.engine`
and the wording in :mod:`content.quiz.render`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

import holidays

from bot.core import DeliveryFailed, Services, Turn
from bot.core.features import FeatureHost
from bot.core.model import Message
from bot.settings import Settings
from bot.workers import Worker
from content.library.models import QuizItem
from content.quiz import engine, render, review
from content.quiz.store import (
    DOMAIN,
    MIGRATIONS,
    AnswerResult,
    Question,
    QuizStore,
    Review,
    Session,
)

log = logging.getLogger(__name__)

POLL_SECONDS = 30.0  # the closing worker looks for due questions at least this often
UPDATE_GAP = 1.0  # seconds between two edits of one channel message (Slack rate limits)
MAX_RETRIES = 3  # further tries of an edit the platform rate-limited
MAX_RETRY_WAIT = 30.0  # seconds; a longer Retry-After is cut to this
CALLER_WAIT = 5.0  # seconds a click waits for its edit before replying anyway
SHUTDOWN_WAIT = 5.0  # seconds edits in flight get to finish at shutdown
RECENT_POSTS = 20  # a channel doesn't see the same question again within this many posts


def refresh_months(settings: Settings) -> int:
    """SECBOT_EXAM_REFRESH_MONTHS: how long a pass lasts before a refresher is due."""
    return settings.exam_refresh_months


def _ints(value: str, count: int) -> tuple[int, ...] | None:
    parts = value.split(":")
    if len(parts) != count or not all(p.isascii() and p.isdigit() and len(p) < 10 for p in parts):
        return None
    return tuple(int(p) for p in parts)


class MessageUpdates:
    """Keeps a channel question's message current with as few edits as possible.

    Each answer asks for an update; while one is in flight, further requests collapse
    into one more edit, which reads the state afresh. So the last edit always shows the
    final count (or the closed question), whatever order the clicks arrived in, and two
    hundred clicks in a second cost a handful of API calls, not two hundred. A caller
    waits only for the first edit that starts after its request, never for a whole
    burst, and for at most ``caller_wait`` seconds, so a Teams click still gets its
    private card promptly. An edit the platform rate-limits is tried again after its
    Retry-After (up to three times), so a lost edit can't leave a stale count showing.
    """

    def __init__(
        self,
        gap: float = UPDATE_GAP,
        max_wait: float = MAX_RETRY_WAIT,
        caller_wait: float = CALLER_WAIT,
    ):
        self.gap = gap
        self.max_wait = max_wait
        self.caller_wait = caller_wait
        self._waiting: dict[int, list[asyncio.Future]] = {}
        self._running: dict[int, asyncio.Future] = {}

    async def request(
        self, key: int, update: Callable[[], Awaitable[None]], *, wait: bool = True
    ) -> None:
        """Ask for an edit. ``wait=False`` returns at once: for a delivery the platform
        has already been answered for, holding the handler open helps nobody."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(done)
        if key not in self._running:
            self._running[key] = asyncio.ensure_future(self._run(key, update))
        if not wait:
            return
        # Bounded, so a rate-limited platform never holds up a click's reply: the edit
        # still happens, just after the reply.
        await asyncio.wait({done}, timeout=self.caller_wait)

    async def _run(self, key: int, update: Callable[[], Awaitable[None]]) -> None:
        try:
            wait = 0.0
            retries = 0
            while self._waiting.get(key) or retries:
                if wait:
                    await asyncio.sleep(wait)
                wait = self.gap
                batch = self._waiting.pop(key, [])
                try:
                    await update()
                    retries = 0
                except DeliveryFailed as e:
                    log.warning("could not update quiz question %s: %s", key, e.reason)
                    # Rate limited: try again (reading the state afresh) once allowed, so
                    # the last edit is never a lost one. Callers don't wait for that.
                    if e.retry_after is not None and not e.permanent and retries < MAX_RETRIES:
                        retries += 1
                        wait = min(max(self.gap, e.retry_after), self.max_wait)
                    else:
                        retries = 0
                except Exception:
                    log.exception("could not update quiz question %s", key)
                    retries = 0
                finally:
                    _release(batch)
        finally:
            self._running.pop(key, None)
            _release(self._waiting.pop(key, []))

    async def idle(self) -> None:
        """Wait until no edit is in flight or queued (for shutdown and tests)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def drain(self, timeout: float) -> None:
        """At shutdown: let edits in flight finish for up to ``timeout`` seconds, then stop."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self.idle(), timeout)
        for task in list(self._running.values()):
            task.cancel()
        for task in list(self._running.values()):
            with suppress(asyncio.CancelledError):
                await task


def _release(waiters: list[asyncio.Future]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)


class Quiz:
    """The quiz feature; one instance per app, found by ``services.feature(Quiz)``."""

    def __init__(self, services: Services, months: int = engine.DEFAULT_REFRESH_MONTHS):
        self.services = services
        self.store = QuizStore(services.db)
        self.rng = random.Random()
        self.updates = MessageUpdates()
        self.refresh_months = months
        # England and Wales share their bank holidays; streaks skip them.
        self.holidays = holidays.country_holidays("GB", subdiv="ENG")

    # --- helpers -----------------------------------------------------------------------

    @property
    def clock(self):
        return self.services.clock

    def _library(self):
        lib = self.services.content
        return lib if lib and getattr(lib, "quiz_items", None) else None

    async def _no_content(self, turn: Turn) -> None:
        await turn.reply(
            render.private(
                "The quiz questions aren't loaded, so the quiz isn't available right now."
                " Please ask your secbot administrator to check the content."
            )
        )

    @staticmethod
    def _slash(turn: Turn) -> bool:
        return turn.place.platform == "slack"

    def _items_for(self, lib, tag: str) -> list[QuizItem] | None:
        """Live items for ``tag`` (all when blank); None if the tag matches nothing."""
        items = lib.items_for_tag(tag) if tag else list(lib.quiz_items.values())
        items = [i for i in items if i.enabled]
        return items or None

    async def _library_items(self, turn: Turn, tag: str) -> tuple[Any, list[QuizItem]] | None:
        """The library and its live items for ``tag``, or None once the person has been
        told why there are none (no content loaded, or an unknown tag)."""
        lib = self._library()
        if lib is None:
            await self._no_content(turn)
            return None
        items = self._items_for(lib, tag)
        if items is None:
            await self._unknown_tag(turn, lib, tag)
            return None
        return lib, items

    async def _unknown_tag(self, turn: Turn, lib, tag: str) -> None:
        tags = lib.tags()
        slash = self._slash(turn)
        for word in tag.split():
            # "99x" or "1.5h" was meant as a time, so say how to give one. A topic that
            # starts with a digit ("2fa") is a known tag, or not time-like, so not caught.
            if word not in tags and engine.looks_like_time(word):
                await turn.reply(render.bad_time(str(engine.unreadable_time(word)), slash))
                return
        await turn.reply(render.unknown_tag(tag, tags, slash))

    def _review(self, user_key: str, item_id: str, correct: bool, now: datetime) -> Review:
        return lambda old: engine.review(old, correct, now, user_key=user_key, item_id=item_id)

    def _scores(self, user_key: str) -> dict[str, engine.Score]:
        return {
            p: engine.Score(answered, correct)
            for p, (answered, correct) in self.store.principle_scores(user_key).items()
        }

    def _session_scores(self, session_id: int, column: str) -> dict[str, engine.Score]:
        out: dict[str, engine.Score] = {}
        for row in self.store.session_answers(session_id):
            s = out.get(row[column], engine.Score())
            out[row[column]] = engine.Score(s.answered + 1, s.correct + row["correct"])
        return out

    # --- entry points --------------------------------------------------------------------

    async def command(self, turn: Turn) -> None:
        """``/quiz …`` in any front door."""
        try:
            request = engine.parse_request(turn.args)
        except engine.DurationError as e:
            await turn.reply(render.bad_time(str(e), self._slash(turn)))
            return
        handler = {
            "post": self.post_question,
            "practice": self.start_practice,
            "exam": self.start_exam,
            "stats": self.stats,
            "leaderboard": self.leaderboard,
            "report": self.report,
            "help": self.help,
        }[request.kind]
        await handler(turn, request)

    async def action(self, turn: Turn) -> None:
        """Every ``quiz:*`` button."""
        handler = {
            "quiz:answer": self.answer,
            "quiz:close": self.close,
            "quiz:session": self.answer_session,
            "quiz:next": self.next_question,
        }.get(turn.incoming.action_id)
        if handler is None:
            await turn.reply(render.private("That button is no longer active."))
            return
        await handler(turn)

    async def help(self, turn: Turn, request: engine.QuizRequest) -> None:
        await turn.reply(render.help_text(self._slash(turn)))

    # --- a question in a channel -----------------------------------------------------------

    async def post_question(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz [10m] [tag]``: one question, answered privately by anyone in the channel."""
        if turn.place.is_direct:
            # In a direct message there is nobody else to answer: practise instead.
            await self.start_practice(turn, request)
            return
        found = await self._library_items(turn, request.tag)
        if found is None:
            return
        lib, items = found
        now = self.clock.now()
        key = turn.incoming.delivery_id or None
        post = self.store.post_for_delivery(key) if key else None
        item = lib.item(post.item_id) if post is not None else None
        if post is not None and (post.message_id is not None or item is None):
            return  # a replay of a /quiz whose question is already posted
        if post is None or item is None:
            item = engine.pick_item(
                items, self.store.recent_items(turn.place, RECENT_POSTS), self.rng
            )
            post = self.store.create_post(
                item.id,
                engine.option_order(self.rng, len(item.options)),
                request.tag,
                turn.place,
                turn.actor.key,
                now,
                now + (request.duration or engine.DEFAULT_OPEN),
                delivery_key=key,
            )
        # The row is the intent; a replay after a crash during the post below finds it
        # without a message and completes the post rather than creating a second question.
        try:
            ref = await turn.reply(
                render.channel_question(post, item, 0, now, self.services.settings.tz)
            )
        except Exception:
            self.store.delete_post(post.id)  # nobody saw it, so nothing to close later
            raise
        if ref is not None:
            self.store.set_message(post.id, ref.id)

    async def answer(self, turn: Turn) -> None:
        """``quiz:answer``: record one answer per person and tell only them how they did."""
        parsed = _ints(turn.incoming.value, 2)
        post = self.store.post(parsed[0]) if parsed else None
        lib = self._library()
        item = lib.item(post.item_id) if lib and post else None
        if (
            parsed is None
            or post is None
            or item is None
            or post.place.platform != turn.place.platform
            or post.place.channel != turn.place.channel
            or not 0 <= parsed[1] < len(post.order)
        ):
            await turn.reply(render.private("Sorry, that question is no longer available."))
            return
        if post.message_id is None and turn.incoming.message is not None:
            self.store.set_message(post.id, turn.incoming.message.id)
        now = self.clock.now()
        choice = post.order[parsed[1]]
        correct = choice == item.correct_index
        result = self.store.record_post_answer(
            post,
            turn.actor,
            turn.place,
            item.module,
            item.principle,
            choice,
            correct,
            now,
            self._review(turn.actor.key, item.id, correct, now),
            delivery_key=turn.incoming.delivery_id or None,
        )
        if result.status == "replayed":
            # This click's answer was recorded before a crash: its effect is done. Bring
            # the count up to date (an edit, not a new message) and say nothing twice.
            await self.refresh(post.id, turn)
        elif result.status == "recorded":
            await turn.reply(render.answer_feedback(item, post.order, choice))
            if turn.place.platform == "teams":
                await self._lasting_copy(turn, render.answer_copy(item, post.order, choice))
            await self.refresh(post.id, turn)
        elif result.status == "duplicate":
            await turn.reply(render.already_answered(item, post.order, result.previous_choice))
        else:  # closed, or past its deadline and not yet closed by the worker
            await turn.reply(render.question_closed(item, post.order, self._slash(turn)))
            if result.status == "due" and self.store.close_post(post.id, now):
                await self.refresh(post.id, turn)

    async def _lasting_copy(self, turn: Turn, msg: Message) -> None:
        """Teams: the feedback again, in the person's personal chat with secbot.

        A click's private reply in Teams is the card returned to the click (the invoke
        response), shown to that person only, in place of the question. The very next
        update of the shared count replaces it for everyone, often within a second, so
        the feedback would vanish. Within one click, a second private reply goes to the
        personal chat (see ``bot.adapters.teams.responder.TeamsResponder``), which keeps it. A
        card ``refresh`` scoped to answerers would be limited to 60 people and cost an
        extra request per answerer on every update. (Not ``transport.post_private``: it
        works from the channel's stored conversation reference, whose user is whoever
        last spoke there, not necessarily this person.)
        """
        try:
            await turn.reply(msg)
        except Exception as e:  # noqa: BLE001 - the answer is recorded and already shown
            log.warning("could not send quiz feedback to a personal chat: %s", type(e).__name__)

    async def close(self, turn: Turn) -> None:
        """``quiz:close``: the person who posted the question closes it early."""
        parsed = _ints(turn.incoming.value, 1)
        post = self.store.post(parsed[0]) if parsed else None
        if post is None or post.place.channel != turn.place.channel:
            await turn.reply(render.private("Sorry, that question is no longer available."))
            return
        if post.closed:
            await turn.reply(render.private("This question has already closed."))
            return
        if turn.actor.key != post.posted_by and not self.services.is_admin(turn.actor):
            await turn.reply(
                render.private("Only the person who posted this question can close it early.")
            )
            return
        if post.message_id is None and turn.incoming.message is not None:
            self.store.set_message(post.id, turn.incoming.message.id)
        if self.store.close_post(post.id, self.clock.now()):
            await self.refresh(post.id, turn)
        else:
            await turn.reply(render.private("This question has already closed."))

    def render_post(self, post_id: int) -> Message | None:
        """The channel message as it should look now: open with a count, or closed."""
        post = self.store.post(post_id)
        if post is None:
            return None
        answered, correct = self.store.counts(post_id)
        lib = self._library()
        item = lib.item(post.item_id) if lib else None
        if item is None:
            return render.channel_retired(answered)
        if post.closed:
            return render.channel_closed(post, item, answered, correct)
        return render.channel_question(
            post, item, answered, self.clock.now(), self.services.settings.tz
        )

    async def refresh(self, post_id: int, turn: Turn | None) -> None:
        """Bring the channel message up to date (see :class:`MessageUpdates`)."""

        async def update() -> None:
            post = self.store.post(post_id)
            msg = self.render_post(post_id)
            if post is None or msg is None:
                return
            ref = post.ref or (turn.incoming.message if turn else None)
            transport = self.services.transports.get(post.place.platform)
            if transport is not None and ref is not None:
                await transport.update(ref, msg)
            elif turn is not None:
                await turn.update_original(msg)
            else:
                log.warning("quiz question %s has no message to update", post_id)

        await self.updates.request(
            post_id, update, wait=turn is None or not turn.incoming.acknowledged
        )

    async def close_due(self) -> int:
        """Close every question past its deadline, including any that came due while the
        bot was down; returns how many this call closed."""
        now = self.clock.now()
        closed = 0
        for post in self.store.due_posts(now):
            if self.store.close_post(post.id, now):
                closed += 1
                await self.refresh(post.id, None)
        return closed

    async def _close_round(self) -> float:
        """One round of the close worker; returns the seconds until the next."""
        try:
            await self.close_due()
        except Exception:
            log.exception("closing due quiz questions failed")
        wait = POLL_SECONDS
        deadline = self.store.next_deadline()
        if deadline is not None:
            until = (deadline - self.clock.now()).total_seconds()
            wait = min(POLL_SECONDS, max(1.0, until))
        return wait

    def close_worker(self) -> Worker:
        """Background worker: closes timed questions when they fall due; at shutdown,
        edits in flight get ``SHUTDOWN_WAIT`` seconds to finish."""
        return Worker(
            "quiz-close",
            self._close_round,
            every=POLL_SECONDS,
            clock=self.clock,
            drain=lambda: self.updates.drain(SHUTDOWN_WAIT),
        )

    # --- practice sessions and exams -----------------------------------------------------

    def _private(self, turn: Turn) -> bool:
        return not turn.place.is_direct

    def _session_item(self, session: Session, position: int) -> QuizItem | None:
        """The item at ``position``, swapping in a similar one if it has been retired."""
        lib = self._library()
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
        replacement = self.rng.choice(same or live)
        self.store.replace_question(session.id, position, Question(replacement.id, question.order))
        return replacement

    async def _item_to_show(
        self, turn: Turn, session: Session, position: int
    ) -> tuple[Session, QuizItem] | None:
        """The item at ``position`` with the session read again (a retired item may just
        have been swapped in), or None once the person has been told there's no content."""
        item = self._session_item(session, position)
        if item is None:
            await self._no_content(turn)
            return None
        return self.store.session(session.id) or session, item

    async def _own_session(self, turn: Turn, fields: int) -> tuple[tuple[int, ...], Session] | None:
        """The button's ``fields`` numbers and the session the first names, if it is the
        clicker's own; otherwise None, once the clicker has been told so."""
        parsed = _ints(turn.incoming.value, fields)
        session = self.store.session(parsed[0]) if parsed else None
        if parsed is None or session is None or session.user_key != turn.actor.key:
            await turn.reply(
                render.private("Sorry, that question isn't part of a session of yours.")
            )
            return None
        return parsed, session

    async def start_practice(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz me [tag]``: five questions chosen by spaced repetition, one at a time."""
        found = await self._library_items(turn, request.tag)
        if found is None:
            return
        lib, items = found
        now = self.clock.now()
        key = turn.actor.key
        chosen = engine.choose_practice(
            items, self.store.card_dues(key), self._scores(key), now, self.rng
        )
        questions = [Question(i.id, engine.option_order(self.rng, len(i.options))) for i in chosen]
        session = self.store.start_session(
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
                session, 0, chosen[0], is_private=self._private(turn), note=note
            )
        )

    async def start_exam(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz exam``: start the exam, or carry on with the one in progress."""
        lib = self._library()
        if lib is None:
            await self._no_content(turn)
            return
        now = self.clock.now()
        session = self.store.active_session(turn.actor.key, "exam")
        if session is None:
            try:
                chosen = engine.compose_exam(
                    [i for i in lib.quiz_items.values() if i.enabled], self.rng
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
                Question(i.id, engine.option_order(self.rng, len(i.options))) for i in chosen
            ]
            session = self.store.start_session(
                "exam", turn.actor, questions, turn.place, now, content_version=lib.version
            )
        else:
            self.store.restart_clock(session.id, now)
        position = session.answered
        found_item = await self._item_to_show(turn, session, position)
        if found_item is None:
            return
        session, item = found_item
        await turn.reply(
            render.session_question(
                session,
                position,
                item,
                is_private=self._private(turn),
                note=render.exam_intro(position, session.total),
            )
        )

    async def answer_session(self, turn: Turn) -> None:
        """``quiz:session``: an answer in a practice session or an exam."""
        found = await self._own_session(turn, 3)
        if found is None:
            return
        parsed, session = found
        _, position, shown = parsed
        if not 0 <= position < session.total:
            await turn.reply(render.private("Sorry, that question is no longer available."))
            return
        item = self._session_item(session, position)
        order = session.questions[position].order
        if item is None or not 0 <= shown < len(order):
            await turn.reply(render.private("Sorry, that question is no longer available."))
            return
        session = self.store.session(session.id) or session
        now = self.clock.now()
        choice = order[shown]
        correct = choice == item.correct_index
        months = self.refresh_months

        def on_finish(score: int, total: int) -> tuple[bool, datetime]:
            return engine.exam_passed(score, total), engine.add_months(now, months)

        result = self.store.record_session_answer(
            session.id,
            position,
            turn.actor,
            turn.place,
            item.module,
            item.principle,
            choice,
            correct,
            now,
            self._review(turn.actor.key, item.id, correct, now),
            on_finish=on_finish,
        )
        slash = self._slash(turn)
        if result.status == "duplicate":
            hints = []
            current = self.store.session(session.id) or session
            if current.kind == "exam" and current.status == "active":
                # Say how to carry on, in case the next question never arrived.
                hints.append(
                    f"You're on question {current.answered + 1} of {current.total}. Type"
                    f" {render.command(self._slash(turn), 'quiz exam')} to carry on."
                )
            await turn.reply(render.already_answered(item, order, result.previous_choice, *hints))
            return
        if result.status == "stale":
            current = self.store.session(session.id) or session
            await turn.reply(
                render.private(
                    f"You're on question {current.answered + 1} of {current.total}: please"
                    " answer that one first."
                )
            )
            return
        if result.status != "recorded":
            again = "quiz exam" if session.kind == "exam" else "quiz me"
            await turn.reply(
                render.private(
                    "That session has already finished, so your answer wasn't recorded.",
                    f"Type {render.command(slash, again)} to start again.",
                )
            )
            return
        session = self.store.session(session.id) or session
        is_private = self._private(turn)
        if session.kind == "practice":
            summary = None
            if session.status == "done":
                summary = render.practice_summary(
                    session.correct,
                    session.total,
                    self._session_scores(session.id, "principle"),
                    slash,
                )
            await turn.update_original(
                render.practice_feedback(
                    session, position, item, choice, is_private=is_private, summary=summary
                )
            )
            return
        if session.status == "done":
            exam = self.store.exam_result(session.id)
            assert exam is not None
            wrong, retired = review.mistakes(
                session, self.store.session_answers(session.id), self._library()
            )
            await turn.update_original(
                render.exam_result(
                    exam,
                    self._session_scores(session.id, "module"),
                    self.services.settings.tz,
                    slash,
                    is_private=is_private,
                    review=review.review_blocks(wrong, retired),
                    review_note=review.review_text(wrong, retired),
                )
            )
            return
        following = position + 1
        self.store.show(session.id, following, now)
        found_item = await self._item_to_show(turn, session, following)
        if found_item is None:
            return
        session, next_item = found_item
        await turn.update_original(
            render.session_question(
                session, following, next_item, is_private=is_private, note="Answer recorded."
            )
        )

    async def next_question(self, turn: Turn) -> None:
        """``quiz:next``: show the next practice question (once, however often it's clicked)."""
        found = await self._own_session(turn, 2)
        if found is None:
            return
        parsed, session = found
        position = parsed[1]
        slash = self._slash(turn)
        if session.status != "active":
            await turn.reply(
                render.private(
                    "That practice session has finished.",
                    f"Type {render.command(slash, 'quiz me')} for another five questions.",
                )
            )
            return
        if position == session.answered and session.shown >= position:
            return  # a double click: the question is already on its way
        if position != session.answered or not self.store.show(
            session.id, position, self.clock.now()
        ):
            await turn.reply(
                render.private(
                    f"You're on question {session.answered + 1} of {session.total}: it's"
                    " already below."
                )
            )
            return
        found_item = await self._item_to_show(turn, session, position)
        if found_item is None:
            return
        session, item = found_item
        await turn.reply(
            render.session_question(session, position, item, is_private=self._private(turn))
        )

    # --- questions asked elsewhere (the "Quiz me on this" button on a daily tip) ----------

    def tip_question_shown(self, turn: Turn, item: QuizItem, tip_id: str) -> None:
        """Note that ``item`` was put to the person under a tip, so the answer's time and
        its once-only recording have something to go by."""
        self.store.prompt_shown("tip", tip_id, turn.actor, turn.place, item.id, self.clock.now())

    def record_tip_answer(self, turn: Turn, item: QuizItem, choice: int) -> AnswerResult:
        """Record an answer to a tip's question like any other: stored with the context
        ``tip`` and applied to the person's spaced-repetition card, once per question shown.
        """
        now = self.clock.now()
        correct = choice == item.correct_index
        return self.store.record_prompt_answer(
            "tip",
            turn.actor,
            turn.place,
            item.id,
            item.module,
            item.principle,
            choice,
            correct,
            now,
            self._review(turn.actor.key, item.id, correct, now),
        )

    # --- stats, leaderboard, report ------------------------------------------------------

    def exam_status(self, user_key: str, slash: bool) -> str:
        tz = self.services.settings.tz
        exam = render.command(slash, "quiz exam")
        active = self.store.active_session(user_key, "exam")
        if active is not None:
            return (
                f"In progress: {active.answered} of {active.total} answered."
                f" Type {exam} to carry on."
            )
        passed = self.store.last_pass(user_key)
        if passed is not None:
            on = engine.long_date(passed.completed_at.astimezone(tz).date())
            due = engine.long_date(passed.refresher_due.astimezone(tz).date())
            if passed.refresher_due <= self.clock.now():
                return f"Passed on {on}. Your refresher was due by {due}: type {exam}."
            return f"Passed on {on} ({passed.score} of {passed.total}). Refresher due by {due}."
        last = self.store.last_exam(user_key)
        if last is not None:
            on = engine.long_date(last.completed_at.astimezone(tz).date())
            return (
                f"Not passed yet: {last.score} of {last.total} on {on}. Type {exam} to try again."
            )
        return f"Not taken yet. Type {exam} to take it."

    async def stats(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz stats``: the person's own accuracy, streak, reviews due and exam status."""
        key = turn.actor.key
        now = self.clock.now()
        tz = self.services.settings.tz
        days = {
            t.astimezone(tz).date()
            for t in self.store.answer_times(key, now - timedelta(days=1100))
        }
        lib = self._library()
        due = self.store.due_count(key, now, set(lib.quiz_items) if lib else None)
        slash = self._slash(turn)
        await turn.reply(
            render.stats(
                self._scores(key),
                engine.streak(days, now.astimezone(tz).date(), self.holidays),
                due,
                self.exam_status(key, slash),
                slash,
            )
        )

    async def leaderboard(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz leaderboard [off|on]``: this channel's top ten this month, or opt out/in."""
        slash = self._slash(turn)
        switch = request.switch
        if switch in ("off", "on"):
            self.store.set_leaderboard_opt_out(turn.actor.key, switch == "off", self.clock.now())
            if switch == "off":
                text = "You won't appear on quiz leaderboards."
                hint = f"Type {render.command(slash, 'quiz leaderboard on')} to appear again."
            else:
                text = "You'll appear on quiz leaderboards again."
                hint = f"Type {render.command(slash, 'quiz leaderboard off')} to leave them."
            await turn.reply(render.private(text, hint))
            return
        if switch:
            await turn.reply(
                render.private(
                    f"Type {render.command(slash, 'quiz leaderboard')},"
                    f" {render.command(slash, 'quiz leaderboard off')} or"
                    f" {render.command(slash, 'quiz leaderboard on')}."
                )
            )
            return
        if turn.place.is_direct:
            await turn.reply(
                render.private(
                    "Leaderboards are kept for each channel. Type"
                    f" {render.command(slash, 'quiz leaderboard')} in a channel where quiz"
                    " questions are posted."
                )
            )
            return
        now = self.clock.now()
        tz = self.services.settings.tz
        start, end = engine.month_bounds(now, tz)
        rows = self.store.leaderboard(turn.place, start, end)
        await turn.reply(render.leaderboard(rows, f"{now.astimezone(tz):%B %Y}", slash))

    async def report(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz report`` (admins): exam completions for managers."""
        if not self.services.is_admin(turn.actor):
            await turn.reply(
                render.private(
                    "Only secbot admins can see the exam report.",
                    "Admins are the people listed in SECBOT_ADMINS.",
                )
            )
            return
        results, total = self.store.exam_results(100)
        await turn.reply(render.report(results, total, self.services.settings.tz))


def setup(host: FeatureHost) -> None:
    quiz = Quiz(host.services, refresh_months(host.services.settings))
    host.services.provide(quiz)
    host.add_migrations(DOMAIN, MIGRATIONS)
    host.registry.add_command(
        "quiz",
        "A quick security question for the channel, practice, or the exam",
        quiz.command,
        usage="quiz [10m | topic | me | exam | stats | leaderboard]",
    )
    host.registry.add_action("quiz", quiz.action)
    host.add_worker(quiz.close_worker())
