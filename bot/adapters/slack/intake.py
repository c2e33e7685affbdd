"""The Slack intake: every kept delivery (HTTP or Socket Mode) is handled from the
inbox through bolt's listeners, with a bounded number at once; failures are tried
again, then kept as dead letters (:mod:`bot.adapters.slack.failures`)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from contextlib import suppress
from dataclasses import replace
from datetime import datetime, timedelta

from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError

from bot import in_order
from bot.adapters.slack.dialogs import DeliveryDialogs, Dialogs, submission_key
from bot.adapters.slack.door import form_fields
from bot.adapters.slack.failures import (
    DEFAULT_MAX_AGE_HOURS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETENTION_DAYS,
    INTERRUPTED,
    FailedDeliveries,
)
from bot.adapters.slack.translate import TRANSLATORS, UNREADABLE, Translated, checked
from bot.core import Bot, DeliveryFailed
from bot.http.errors import where
from bot.retry import RetryPolicy
from bot.storage.batched import hot_writer
from bot.storage.inbox import RAW, Inbox, Kept
from bot.storage.leases import RENEW_SECONDS
from bot.storage.sql import DB_ERRORS
from bot.tasks import TaskSet
from bot.workers import Worker

log = logging.getLogger(__name__)


# Where the consumer tells a listener which kept row a dispatch is for.
ENTRY = "secbot_inbox_entry"
REPLAY = "secbot_replay"
RECEIVED = "secbot_received"  # when the front door kept it (how fresh its trigger_id is)
CLAIMED = "secbot_claimed"  # the consumer claimed the delivery's id already
# The consumer's record of what the listeners did. Bolt copies the context dict it is
# given, so the listeners write into this shared object, not into the context itself.
OUTCOME = "secbot_outcome"
REACHED = "reached"  # a listener got the delivery
HANDLED = "handled"  # ... and finished with it
FAILED = "error:"  # ... and failed with this class of error (``FAILED + "SlackApiError"``)
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
# Interaction payloads by type: the kind of kept delivery each is (as app.py routes them).
_INTERACTIONS = {
    "block_actions": "action",
    "view_submission": "view",
    "view_closed": "view",
    "message_action": "shortcut",
}
# A safety net: look at the inbox this often even without a nudge.
IDLE_POLL_SECONDS = 5.0
# A delivery bolt did not pass to any listener (auth.test failed, say) is tried again
# as the shared retry policy says (5, 30, then 120 seconds), then left kept for the next
# start.
REDELIVERY = RetryPolicy(first=5.0, growth=6.0, maximum=120.0, jitter=(1.0, 1.0), attempts=4)
# What a dispatch did with a kept delivery.
DONE, RETRY, KEEP = "done", "retry", "keep"


def error_class(e: BaseException) -> str:
    """What went wrong, for the log and the dead letters: the exception's class and, for a
    platform error, the platform's error code. Never the message, which may quote text."""
    name = type(e).__name__
    code = None
    if isinstance(e, SlackApiError) and e.response is not None:
        code = e.response.get("error")
    elif isinstance(e, DeliveryFailed):
        code = e.reason
    if isinstance(code, str) and re.fullmatch(r"[a-z0-9_.:-]{1,60}", code):
        return f"{name} ({code})"
    return name


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
            incoming, responder = self._translate(kind, body, context.get(RECEIVED))
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

    def _translate(self, kind: str, body: dict, received: datetime | None = None) -> Translated:
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
            taken = await self._hot.submit(
                lambda: self.inbox.claim("slack", now, room, self.owner)
            )
            # (never in _busy: this instance's leases are renewed before it claims)
            rows = [r for r in taken if r.id not in self._busy]
        except DB_ERRORS as e:
            log.error("could not read kept Slack deliveries (%s); trying again", e)
            return 1.0
        if not rows:
            return None  # until notified, or the idle poll
        behind = self.behind(rows[0].received_at)
        plans = [self._plan(row) for row in rows]
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

    def _plan(self, row: Kept) -> tuple[Kept, bool, str | None, str | None]:
        """What the consumer needs to know of a kept row before handling it: whether it is
        a replay (an instance claimed it before and died, or stopped, with it in hand, or
        it was tried before: part of its effect may be done), its delivery id and its
        conversation (None when the body can't be read here; bolt then decides)."""
        replay = row.claims > 1 or row.attempts > 0
        incoming = self._peek(row.kind, row.payload)
        if incoming is None:
            return row, replay, None, None
        place = incoming.place
        lane = f"{place.platform}:{place.workspace}:{place.channel}"
        return row, replay, incoming.delivery_id or None, lane

    def _peek(self, kind: str, payload: str):
        """The neutral delivery a kept row holds, without handling it (None if unreadable)."""
        try:
            if kind == RAW:
                if payload[:1] == "{":
                    body = json.loads(payload)
                    event = body.get("event") or {}
                    kind = "files" if event.get("subtype") == "file_share" else "event"
                else:
                    form = form_fields(payload)
                    if "payload" in form:
                        body = json.loads(form["payload"][0])
                        kind = _INTERACTIONS.get(body.get("type"), "")
                    else:
                        body = {k: v[0] for k, v in form.items()}
                        kind = "command"
            else:
                body = json.loads(payload)
            if kind not in TRANSLATORS:
                return None
            return TRANSLATORS[kind](body, self.client)[0]
        except Exception:  # noqa: BLE001 - read again, and judged, when handled
            return None

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
                outcome, error = await self._dispatch(
                    row.id, row.kind, row.payload, replay, row.received_at, claimed
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
            self._slots.release()

    async def _later(self, row: Kept, replay: bool, attempt: int, claimed: bool):
        with suppress(TimeoutError):  # a stop ends the wait at once
            await asyncio.wait_for(self._stopped.wait(), REDELIVERY.delay(attempt))
        if self._stopping:
            self._busy.discard(row.id)
            return  # still kept: the next start handles it
        await self._slots.acquire()
        await self._handle(row, replay, attempt, claimed=claimed)

    async def _dispatch(
        self,
        entry: int,
        kind: str,
        payload: str,
        replay: bool,
        received: datetime | None = None,
        claimed: bool = False,
    ) -> tuple[str, str | None]:
        """Hand one kept delivery to bolt (or, for a parsed one, straight to the core).

        DONE: handled, or nothing to do (no listener wants it). RETRY: bolt stopped it
        before any listener (its ``auth.test`` failed, say), so nothing ran and trying
        again is safe. KEEP: a handler started but did not finish; it is not retried in
        this process (it may have done part of its work) but kept for the next start.
        With it, the class of the error, if one was seen."""
        outcome: set[str] = set()
        context = {
            ENTRY: entry, REPLAY: replay, OUTCOME: outcome, RECEIVED: received, CLAIMED: claimed
        }  # fmt: skip
        if kind == RAW:
            content_type = "application/json" if payload[:1] == "{" else FORM
            request = AsyncBoltRequest(
                body=payload, headers={"content-type": content_type}, context=context
            )
            try:
                response = await self.app.async_dispatch(request)
            except UNREADABLE as e:
                # Bolt's routing reads the body's fields before any listener runs and
                # fails on an unexpected shape; trying again would fail again.
                log.warning(
                    "dropping a kept Slack delivery bolt could not route (%s)", e.__class__.__name__
                )
                return DONE, None
            if HANDLED in outcome or (response.status == 404 and REACHED not in outcome):
                return DONE, None
            error = next((o[len(FAILED) :] for o in outcome if o.startswith(FAILED)), None)
            if REACHED in outcome:
                return KEEP, error
            return RETRY, error or f"not dispatched (status {response.status})"
        if kind not in TRANSLATORS:
            log.error("dropping a kept Slack delivery of unknown kind %r", kind)
            return DONE, None
        try:
            incoming, responder = self._translate(kind, json.loads(payload), received)
        except UNREADABLE:
            log.error("dropping an unreadable kept Slack delivery (%s)", kind)
            return DONE, None
        try:
            await self.bot.handle(incoming, responder, replay=replay, claimed=claimed)
        except Exception as e:
            log.exception("handling a kept Slack delivery (%s) failed", kind)
            return KEEP, error_class(e)
        return DONE, None


FORM = "application/x-www-form-urlencoded"


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
