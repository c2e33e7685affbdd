"""A question in a channel: ``/quiz [10m] [tag]`` posts it, ``quiz:answer`` records one
answer per person, ``quiz:close`` closes it early, and a worker closes it when it falls
due. The shared message keeps its count current through :class:`MessageUpdates`."""

from __future__ import annotations

import logging

from bot import audit
from bot.core import Turn
from bot.core.actions import value_ints
from bot.core.model import Message
from bot.workers import Worker
from content.quiz import engine, render
from content.quiz.shared import QuizShared
from content.quiz.updates import MessageUpdates

log = logging.getLogger(__name__)

POLL_SECONDS = 30.0  # the closing worker looks for due questions at least this often
SHUTDOWN_WAIT = 5.0  # seconds edits in flight get to finish at shutdown
RECENT_POSTS = 20  # a channel doesn't see the same question again within this many posts


class ChannelQuiz:
    """Questions posted in a channel and answered privately by anyone there."""

    def __init__(self, shared: QuizShared, updates: MessageUpdates):
        self.shared = shared
        self.store = shared.store
        self.updates = updates

    async def post_question(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz [10m] [tag]``: one question, answered privately by anyone in the channel
        (the feature sends the same command in a direct message to practice)."""
        found = await self.shared.library_items(turn, request.tag)
        if found is None:
            return
        lib, items = found
        now = self.shared.clock.now()
        key = turn.incoming.delivery_id or None
        post = await self.store.channel.post_for_delivery(key) if key else None
        item = lib.item(post.item_id) if post is not None else None
        if post is not None and (post.message_id is not None or item is None):
            return  # a replay of a /quiz whose question is already posted
        if post is None or item is None:
            item = engine.pick_item(
                items,
                await self.store.channel.recent_items(turn.place, RECENT_POSTS),
                self.shared.rng,
            )
            post = await self.store.channel.create_post(
                item.id,
                engine.option_order(self.shared.rng, len(item.options)),
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
            ref = await turn.reply(render.channel_question(post, item, 0, now, self.shared.tz))
        except Exception:
            await self.store.channel.delete_post(
                post.id
            )  # nobody saw it, so nothing to close later
            raise
        if ref is not None:
            await self.store.channel.set_message(post.id, ref.id)

    async def answer(self, turn: Turn) -> None:
        """``quiz:answer``: record one answer per person and tell only them how they did."""
        parsed = value_ints(turn.incoming.value, 2)
        post = await self.store.channel.post(parsed[0]) if parsed else None
        lib = self.shared.library()
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
            await self.store.channel.set_message(post.id, turn.incoming.message.id)
        now = self.shared.clock.now()
        choice = post.order[parsed[1]]
        result = await self.store.channel.record_post_answer(
            post,
            self.shared.answer(turn, item, choice, now),
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
            await turn.reply(render.question_closed(item, post.order, turn.place))
            if result.status == "due" and await self.store.channel.close_post(post.id, now):
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
        parsed = value_ints(turn.incoming.value, 1)
        post = await self.store.channel.post(parsed[0]) if parsed else None
        if post is None or post.place.channel != turn.place.channel:
            await turn.reply(render.private("Sorry, that question is no longer available."))
            return
        if post.closed:
            await turn.reply(render.private("This question has already closed."))
            return
        if turn.actor.key != post.posted_by and not self.shared.services.is_admin(turn.actor):
            await turn.reply(
                render.private("Only the person who posted this question can close it early.")
            )
            return
        if post.message_id is None and turn.incoming.message is not None:
            await self.store.channel.set_message(post.id, turn.incoming.message.id)
        if await self.store.channel.close_post(post.id, self.shared.clock.now()):
            if turn.actor.key != post.posted_by:  # an admin, closing someone else's
                await audit.record(
                    turn, "closed someone else's quiz question early", f"question #{post.id}"
                )
            await self.refresh(post.id, turn)
        else:
            await turn.reply(render.private("This question has already closed."))

    async def render_post(self, post_id: int) -> Message | None:
        """The channel message as it should look now: open with a count, or closed."""
        post = await self.store.channel.post(post_id)
        if post is None:
            return None
        answered, correct = await self.store.channel.counts(post_id)
        lib = self.shared.library()
        item = lib.item(post.item_id) if lib else None
        if item is None:
            return render.channel_retired(answered)
        if post.closed:
            return render.channel_closed(post, item, answered, correct)
        return render.channel_question(
            post, item, answered, self.shared.clock.now(), self.shared.tz
        )

    async def refresh(self, post_id: int, turn: Turn | None) -> None:
        """Bring the channel message up to date (see :class:`MessageUpdates`)."""

        async def update() -> None:
            post = await self.store.channel.post(post_id)
            msg = await self.render_post(post_id)
            if post is None or msg is None:
                return
            ref = post.ref or (turn.incoming.message if turn else None)
            transport = self.shared.services.transports.get(post.place.platform)
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
        now = self.shared.clock.now()
        closed = 0
        for post in await self.store.channel.due_posts(now):
            if await self.store.channel.close_post(post.id, now):
                closed += 1
                await self.refresh(post.id, None)
        return closed

    async def _close_round(self) -> float:
        """One round of the close worker; returns the seconds until the next."""
        shortest = 0.0  # a deadline that passed while this round ran: at once
        try:
            await self.close_due()
        except Exception:
            log.exception("closing due quiz questions failed")
            shortest = 1.0  # not straight back into the same failure
        wait = POLL_SECONDS
        deadline = await self.store.channel.next_deadline()
        if deadline is not None:
            until = (deadline - self.shared.clock.now()).total_seconds()
            wait = min(POLL_SECONDS, max(shortest, until))
        return wait

    def close_worker(self) -> Worker:
        """Background worker: closes timed questions when they fall due; at shutdown,
        edits in flight get ``SHUTDOWN_WAIT`` seconds to finish."""
        return Worker(
            "quiz-close",
            self._close_round,
            every=POLL_SECONDS,
            clock=self.shared.clock,
            drain=lambda: self.updates.drain(SHUTDOWN_WAIT),
        )
