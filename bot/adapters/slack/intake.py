"""The Slack intake: every kept delivery (HTTP or Socket Mode) is handled from the
inbox through bolt's listeners, with a bounded number at once; failures are tried
again, then kept as dead letters (:mod:`bot.adapters.slack.failures`)."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from dataclasses import replace
from datetime import datetime, timedelta

from aiohttp import web
from slack_bolt.app.async_app import AsyncApp

from bot import in_order
from bot.adapters.slack.dialogs import DeliveryDialogs, Dialogs, submission_key
from bot.adapters.slack.failures import (
    DEFAULT_MAX_AGE_HOURS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETENTION_DAYS,
    INTERRUPTED,
    FailedDeliveries,
)
from bot.adapters.slack.kept import (
    CLAIMED,
    DONE,
    ENTRY,
    FAILED,
    HANDLED,
    KEEP,
    OUTCOME,
    REACHED,
    RECEIVED,
    REPLAY,
    RETRY,
    dispatch,
    error_class,
    plan,
)
from bot.adapters.slack.pace import Pace
from bot.adapters.slack.translate import TRANSLATORS, UNREADABLE, Translated, checked
from bot.core import Bot
from bot.http.errors import where
from bot.retry import RetryPolicy
from bot.storage.batched import hot_writer
from bot.storage.inbox import RAW, Inbox, Kept
from bot.storage.leases import RENEW_SECONDS
from bot.storage.sql import DB_ERRORS
from bot.tasks import TaskSet
from bot.workers import Worker

log = logging.getLogger(__name__)


# How many kept deliveries are handled at once; more wait in the inbox, not in memory.
# Generous, because a quiz click's handler mostly waits (for its merged message edit).
DEFAULT_HANDLERS = 500
# Acknowledgements come first for at most this long: once the oldest waiting delivery
# is older, handling gets an equal share with acknowledging until the queue catches up.
DEFAULT_DEFER_SECONDS = 10.0
# Rows read from the inbox per query.
BATCH = 256
# While acknowledging comes first, the consumer starts handlers for at most this long
# before it lets the event loop serve the door again.
SLICE_SECONDS = 0.002
# A safety net: look at the inbox this often even without a nudge.
IDLE_POLL_SECONDS = 5.0
# A delivery bolt did not pass to any listener (auth.test failed, say) is tried again
# as the shared retry policy says (5, 30, then 120 seconds), then left kept for the next
# start.
REDELIVERY = RetryPolicy(first=5.0, growth=6.0, maximum=120.0, jitter=(1.0, 1.0), attempts=4)


class SlackIntake:
    """Keep, acknowledge, then handle: the order that lets a crash lose nothing.

    Over HTTP the front door (:mod:`bot.adapters.slack.door`) verifies the signature,
    keeps the body and acknowledges; this consumer then reads the inbox in order and
    dispatches each body through bolt, whose listeners hand it to the core. Handling
    never sits on the acknowledging path, so Slack's answer does not wait for our work.
    Socket Mode deliveries arrive through bolt instead: the listener keeps and
    acknowledges them, and the same consumer handles them.
    """

    def __init__(
        self,
        bot: Bot,
        app: AsyncApp,
        tasks: TaskSet,
        inbox: Inbox,
        *,
        handlers: int = DEFAULT_HANDLERS,
        defer_seconds: float = DEFAULT_DEFER_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_age_hours: float = DEFAULT_MAX_AGE_HOURS,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        dialogs: Dialogs | None = None,
    ):
        self.bot = bot
        self.dialogs = dialogs
        self.app = app
        self.client = app.client
        self.tasks = tasks
        self.inbox = inbox
        self._busy: set[int] = set()  # kept rows being handled now
        self.failures = FailedDeliveries(
            inbox,
            bot.services.clock,
            max_attempts=max_attempts,
            max_age=timedelta(hours=max_age_hours),
            retention=timedelta(days=retention_days),
            taken=lambda: self._busy,
            owner=bot.services.instance,
        )
        self.defer = timedelta(seconds=defer_seconds)
        # The consumer: one round reads a batch of kept rows and starts their handlers.
        self.worker = Worker("slack-intake", self._round, every=IDLE_POLL_SECONDS)
        self._replays_announced = False
        self._slots = asyncio.Semaphore(handlers)
        self._renewed: datetime | None = None  # when this instance last renewed its leases
        self._stopping = False
        self._stopped = asyncio.Event()
        self.handled = 0
        # Deliveries in one conversation are handled in arrival order (bot/in_order.py).
        self.lanes = in_order.Lanes()
        self._hot = hot_writer(inbox.db)
        # How far the front door may run ahead of these handlers (bot/adapters/slack/pace.py).
        self.pace = Pace()

    @property
    def owner(self) -> str:
        """This instance's name on the rows it claims."""
        return self.bot.services.instance

    def notify(self) -> None:
        """A row was kept: look at the inbox."""
        self.worker.wake()

    # --- the listeners' side -----------------------------------------------------------

    async def take(self, kind: str, body: dict, ack, context: dict) -> None:
        if ack is not None:
            await ack()
        entry = context.get(ENTRY)
        if entry is None:
            # Socket Mode: a live delivery nobody has kept yet. Keep it; the consumer
            # handles it like an HTTP one.
            await self.inbox.add("slack", kind, body, self.bot.services.clock.now())
            self.notify()
            return
        outcome = context[OUTCOME]
        outcome.add(REACHED)
        try:
            incoming, responder = self.translate(kind, body, context.get(RECEIVED))
        except UNREADABLE:
            # Signed, so from Slack (or a holder of the secret), but not in a shape we
            # know. Trying again would fail again; never log the body (people's words).
            log.warning("dropping a Slack %s delivery of an unexpected shape", kind)
            outcome.add(HANDLED)
            return
        try:
            await self.bot.handle(
                incoming,
                responder,
                replay=bool(context.get(REPLAY)),
                claimed=bool(context.get(CLAIMED)),
            )
        except Exception as e:
            outcome.add(FAILED + error_class(e))
            raise
        outcome.add(HANDLED)

    def translate(self, kind: str, body: dict, received: datetime | None = None) -> Translated:
        """The neutral delivery. Everything this intake hands on was acknowledged before it
        was handled (Slack already has its 200), so nothing waits for the handler (a
        modal's submission at most waits a moment for corrections: ``dialogs``)."""
        dialogs = DeliveryDialogs(self.dialogs, received) if self.dialogs else None
        incoming, responder = TRANSLATORS[kind](body, self.client, dialogs)
        return replace(checked(incoming), acknowledged=True), responder

    def _answered(self, row: Kept) -> None:
        """A kept modal submission is done with (handled, dropped or failed): if the front
        door still holds its request open with nothing to say, it answers now and the
        modal closes."""
        if self.dialogs is not None and row.kind == RAW and "view_submission" in row.payload:
            key = submission_key(row.payload)
            if key is not None:
                self.dialogs.answers.answer(key, None)

    @staticmethod
    def ignore(context: dict) -> None:
        """A listener that deliberately does nothing with a delivery (a bot's own post)."""
        outcome = context.get(OUTCOME)
        if outcome is not None:
            outcome.update((REACHED, HANDLED))

    # --- the consumer ------------------------------------------------------------------

    async def _round(self) -> float | None:
        """One round of the consumer (run by ``self.worker``): claim the oldest kept rows
        no live instance is handling (bot/storage/leases.py) and start their handlers;
        returns how long to wait. A row claimed before (its claimer died with it in hand,
        or stopped before finishing it) or tried before is handled as a replay.

        Acknowledging comes first. Slack's three seconds apply to the acknowledgement,
        not the work, and a late acknowledgement makes Slack show an error and retry,
        adding load just when there is most. So under a burst the consumer starts one
        handler per turn of the event loop, and every turn also serves every request
        waiting at the door; when the door is quiet that is no brake at all. Once the
        oldest waiting delivery is ``defer_seconds`` old, handlers start without
        waiting, sharing the process evenly until the queue has caught up.
        """
        if self._stopping:
            return None
        try:
            await self.renew()
            # No more than free handler slots, so a claimed row never waits in memory
            # while its lease runs (another instance may have room for it).
            room = max(1, min(BATCH, self._slots._value))
            now = self.bot.services.clock.now()
            # In the group commit with the acknowledgements: on SQLite every transaction
            # is a turn at the file's one write lock, and an acknowledgement waiting for
            # the consumer's own was most of its time at low load.
            taken = await self._hot.submit(lambda: self.inbox.claim("slack", now, room, self.owner))
            # (never in _busy: this instance's leases are renewed before it claims)
            rows = [r for r in taken if r.id not in self._busy]
        except DB_ERRORS as e:
            log.error("could not read kept Slack deliveries (%s); trying again", e)
            return 1.0
        if len(taken) < room:  # nothing else is waiting to be claimed
            self.pace.caught_up(len(self._busy) + len(rows))
        if not rows:
            return None  # until notified, or the idle poll
        behind = self.behind(rows[0].received_at)
        plans = [plan(row, self.client) for row in rows]
        fresh: set[str] | None
        try:
            fresh = await self._claim_ids(plans)
        except DB_ERRORS as e:
            log.error("could not claim Slack delivery ids (%s); each claims its own", e)
            fresh = None  # the de-duplication middleware claims each as it is handled
        sliced = time.perf_counter()
        for row, replay, delivery_id, lane in plans:
            claimed = fresh is not None and delivery_id in fresh and not replay
            if claimed and fresh is not None and delivery_id is not None:
                fresh.discard(delivery_id)  # the same delivery kept twice: the first is new
            elif fresh is not None and delivery_id is not None and not replay:
                # A repeat of a delivery handled (or being handled) already: Slack's retry.
                log.info("ignoring repeated delivery %s", delivery_id)
                self._busy.add(row.id)
                self.tasks.spawn(self._forget(row.id))
                continue
            await self._slots.acquire()
            if self._stopping:
                self._slots.release()
                return None
            if replay and not self._replays_announced:
                self._replays_announced = True
                log.warning("handling Slack deliveries left by a stopped instance")
            self._busy.add(row.id)
            self.tasks.spawn(self._in_turn(row, replay, claimed, lane))
            if not behind and time.perf_counter() - sliced > SLICE_SECONDS:
                await asyncio.sleep(0)
                sliced = time.perf_counter()
        return 0.0

    async def _claim_ids(self, plans) -> set[str]:
        """Claim the delivery ids of a batch in one statement (the de-duplication
        middleware's claim, done for all at once); returns those new here. Replays are
        left to the middleware, which handles them whether claimed or not."""
        ids = [d for _, replay, d, _ in plans if d is not None and not replay]
        if not ids:
            return set()
        deliveries = self.bot.services.deliveries
        assert deliveries is not None
        now = self.bot.services.clock.now()
        return await self._hot.submit(lambda: deliveries.claim_many(ids, now))

    async def _forget(self, entry_id: int) -> None:
        try:
            await self.inbox.remove(entry_id)
        except DB_ERRORS as e:
            log.error("could not remove a repeated Slack delivery (%s)", e)
        finally:
            self._busy.discard(entry_id)
            self.pace.finished()

    async def _in_turn(self, row: Kept, replay: bool, claimed: bool, lane: str | None) -> None:
        """Handle ``row`` once the delivery before it in its conversation has passed
        (``bot/in_order.py``). Tasks start in the order they were spawned, which is the
        inbox's order, so each takes its place in its lane in arrival order."""
        async with self.lanes.turn(lane):
            await self._handle(row, replay, claimed=claimed)

    async def renew(self) -> None:
        """Renew this instance's leases on kept rows (those in hand, and failed ones it
        keeps until it stops) once every ``RENEW_SECONDS``, before claiming more."""
        now = self.bot.services.clock.now()
        last = self._renewed
        if last is None or not 0 <= (now - last).total_seconds() < RENEW_SECONDS:
            await self.inbox.renew(now, self.owner)
            self._renewed = now

    def behind(self, received_at: datetime) -> bool:
        return self.bot.services.clock.now() - received_at > self.defer

    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        """Start nothing new; rows not started stay kept for the next start."""
        self._stopping = True
        self._stopped.set()

    async def _handle(
        self, row: Kept, replay: bool, attempt: int = 0, *, claimed: bool = False
    ) -> None:
        outcome: str = KEEP
        error: str | None = INTERRUPTED
        try:
            if replay and attempt == 0 and not await self.failures.begin_replay(row):
                return
            try:
                outcome, error = await dispatch(
                    self, row.id, row.kind, row.payload, replay, row.received_at, claimed
                )
            except Exception as e:
                # Not a handler's error (the core catches and answers those): a delivery
                # that can't be read. Trying it again would fail again.
                # Never log the payload, or the error's text: they hold people's messages.
                log.error(
                    "a kept Slack delivery (%s) could not be handled (%s at %s); dropping it",
                    row.kind,
                    type(e).__name__,
                    where(e),
                )
                outcome = DONE
            # Below is not reached if cancelled (a shutdown that ran out of time): the
            # row stays kept and the next start handles it again.
            if outcome == DONE:
                await self.inbox.remove(row.id)
            elif outcome == RETRY and attempt < REDELIVERY.attempts - 1 and not self._stopping:
                log.warning(
                    "a kept Slack delivery reached no handler; trying again in %ds",
                    REDELIVERY.delay(attempt + 1),
                )
                self._busy.add(row.id)
                self.tasks.spawn(self._later(row, replay, attempt + 1, claimed))
            else:
                await self.failures.failed(row, error or "no handler", counted=replay)
        finally:
            self._answered(row)
            if outcome != RETRY or attempt >= REDELIVERY.attempts - 1 or self._stopping:
                self._busy.discard(row.id)
            self.handled += 1
            self.pace.finished()
            self._slots.release()

    async def _later(self, row: Kept, replay: bool, attempt: int, claimed: bool):
        with suppress(TimeoutError):  # a stop ends the wait at once
            await asyncio.wait_for(self._stopped.wait(), REDELIVERY.delay(attempt))
        if self._stopping:
            self._busy.discard(row.id)
            return  # still kept: the next start handles it
        await self._slots.acquire()
        await self._handle(row, replay, attempt, claimed=claimed)


def intake_ctx(intake: SlackIntake):
    """Run the consumer once the HTTP session exists; stop it before handlers drain."""

    async def ctx(app: web.Application):
        tidy = intake.failures.housekeeping_worker()
        intake.worker.start()
        tidy.start()
        yield
        await tidy.stop()
        intake.stop()  # start nothing new: rows not started stay kept for the next start
        await intake.worker.stop()
        await intake.tasks.drain()
        # A clean stop: what this instance still holds is free for any instance at once.
        with suppress(*DB_ERRORS):
            await intake.inbox.release(intake.owner)

    return ctx
