"""The durable tip scheduler and its fan-out worker.

How one scheduled delivery moves through the ledger (``content/tips/store/ledger.py``):

1. **Claim.** When a subscription's ``next_due`` passes, a ``pending`` row is inserted
   under ``UNIQUE(subscription_id, local_date)``, with the tip chosen from the channel's
   rotation; then ``next_due`` moves to the next working day. A second claim for the same
   day (a restart, ``/tip send-now``, a second worker) inserts nothing.
2. **Send.** Right before the platform call the row becomes ``sending``; right after, ``sent``.
   A platform *refusal* (``DeliveryFailed``: 429, an API error) means nothing was posted,
   so the row goes back to ``pending`` with a retry time. ``permanent`` failures (archived
   channel, bot removed) mark the row ``gone`` and the subscription inactive.
3. **Restart.** On start-up, ``pending`` rows are sent if still within the grace window
   (``SECBOT_TIP_GRACE_MINUTES``, default 180) and marked ``missed`` otherwise; rows left
   in ``sending`` are marked ``unknown`` and **not** re-sent. Each subscription's next due
   time is worked out again (today's slot if it is within the grace window and unclaimed),
   but never moved earlier than the stored one, so a restart does not post a slot from
   before the channel subscribed.

That last rule is an at-most-once choice. A row in ``sending`` means the process died
during the one API call, and neither Slack's ``chat.postMessage`` nor the Bot Connector
de-duplicates a repeated post, so re-sending could show the channel the same tip twice.
The window is one HTTP round trip per in-flight channel (at most
``SECBOT_TIP_CONCURRENCY`` per platform), so the rare loss is logged instead of risking
duplicates.
Channels that never reached ``sending`` are never lost.

A *graceful* stop (a deploy, ``SIGTERM``) leaves nothing in ``sending``: the worker
stops starting new posts, waits up to ``SECBOT_TIP_DRAIN_SECONDS`` (default 5) for the
posts already on the wire to finish and be recorded, and leaves the rest ``pending`` for
the next start. Only a hard crash can leave an ``unknown`` row.

Missed days older than the grace window are skipped and logged (ids and dates only,
never message text), so a bot that was down all weekend does not post Friday's tip on
Monday afternoon. A refused post (a rate limit, a server error, no connection) is retried
with backoff for as long as it is within the grace window.

**Scale.** Claims and start-up reschedules go in pages of ``PAGE`` channels, one
transaction per page, yielding to the event loop between pages so people's commands are
still answered during a big fan-out. Every query is served by an index
(``tip_subscriptions (active, next_due)``, partial indexes on the ``pending`` and
``sending`` rows of ``tip_deliveries``, the ledger's unique keys). Sending uses a pool of
``SECBOT_TIP_CONCURRENCY`` workers per platform, paced per conversation and per workspace
by ``content/tips/pacing.py``. Their ledger writes are batched (``bot/storage/batched.py``):
the moves to ``sending`` and the outcomes queued within a few turns of the event loop are
committed in one transaction. A worker posts only once its row's ``sending`` is committed,
and queues each outcome before its next row's ``sending``, so the rows in ``sending`` are
never more than the posts on the wire, and a crash loses at most those, as above.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.core import WORKSPACE, DeliveryFailed
from bot.core.model import Actions, Button, Context, Heading, Message, Place, Section
from bot.retry import TIPS
from bot.storage.batched import BatchedWriter
from content.tips.pacing import Pacer
from content.tips.schedule import is_delivery_day, next_delivery
from content.tips.store import (
    CANCELLED,
    FAILED,
    GONE,
    MISSED,
    PENDING,
    UNKNOWN,
    Delivery,
    Subscription,
    TipStore,
)

if TYPE_CHECKING:
    from bot.core import Services
    from content.library.models import Tip

log = logging.getLogger(__name__)

# Channels claimed (or rescheduled at start-up) per transaction, between event-loop yields.
PAGE = 200
# Backoff after a refusal without Retry-After: bot.retry.TIPS (30 s, doubling, at most
# 15 minutes, with jitter).
# How long the worker sleeps at most, so a changed system clock is noticed.
MAX_SLEEP = 300.0
# At start-up a stored next due time is kept (not moved earlier) if it is at most this far
# ahead; further than any real schedule's gap means the system clock was wrong.
TRUST_AHEAD = timedelta(days=31)


# --- rotation ----------------------------------------------------------------------------


def _order_key(place_key: str, cycle: int) -> Callable[[str], bytes]:
    """sha256(f"{place}|{cycle}|{tip}"), hashing the shared prefix once."""
    prefix = hashlib.sha256(f"{place_key}|{cycle}|".encode())

    def key(tip_id: str) -> bytes:
        h = prefix.copy()
        h.update(tip_id.encode())
        return h.digest()

    return key


def rotation_order(place_key: str, cycle: int, tip_ids: Iterable[str]) -> list[str]:
    """The channel's shuffled order for ``cycle``: a per-tip hash of (channel, cycle, tip),
    so adding or retiring a tip never reorders the others."""
    return sorted(tip_ids, key=_order_key(place_key, cycle))


def next_tip(
    place_key: str, cycle: int, served: set[str], tip_ids: Iterable[str]
) -> tuple[str, int] | None:
    """(tip id, cycle) of the next tip: the first unserved tip in this cycle's order, or,
    once every current tip has been served, the first of the next cycle.

    Only the first is needed, so this hashes the unserved tips and takes the smallest
    (O(n), no sort); nothing is cached, so thousands of channels cost no memory."""
    ids = tip_ids if isinstance(tip_ids, list) else list(tip_ids)
    if not ids:
        return None
    left = [t for t in ids if t not in served]
    if left:
        return min(left, key=_order_key(place_key, cycle)), cycle
    return min(ids, key=_order_key(place_key, cycle + 1)), cycle + 1


# --- the tip message ------------------------------------------------------------------


def tip_message(tip: Tip, *, private: bool = False, footer: str = "") -> Message:
    title, body, action = tip.title.text(), tip.body.text(), tip.action.text()
    lines = [f"Source: {tip.source.title} ({tip.source.url})"]
    if footer:
        lines.append(footer)
    return Message(
        text=f"Security tip: {title}. {body} Do this today: {action}",
        blocks=(
            Heading(f"Security tip: {title}"),
            Section(body),
            Section(f"Do this today: {action}"),
            Context(tuple(lines)),
            Actions(
                (
                    Button("Useful", "tip:vote", f"{tip.id}|useful", "primary"),
                    Button("Not useful", "tip:vote", f"{tip.id}|not-useful"),
                    Button("Quiz me on this", "tip:quiz", tip.id),
                )
            ),
        ),
        private=private,
    )


@dataclass(frozen=True, slots=True)
class SendResult:
    # sent | retry | gone | failed | missed | unknown | cancelled | skipped | deferred | error
    status: str
    detail: str = ""


# Shared instances of the common results: a fan-out of 10,000 need not allocate 10,000.
SENT_RESULT = SendResult("sent")
DEFERRED = SendResult("deferred")
CANCELLED_RESULT = SendResult("cancelled")


class TipDelivery:
    """Owns the schedule and the fan-out; one per app: ``services.feature(TipDelivery)``."""

    def __init__(self, services: Services):
        self.services = services
        self.store = TipStore(services.db)
        # Upper bounds too: a huge grace or interval overflows the date arithmetic.
        settings = services.settings
        self.grace = timedelta(minutes=settings.tip_grace_minutes)
        self.concurrency = settings.tip_concurrency
        self.test_interval = settings.tip_test_interval
        self.drain_seconds = settings.tip_drain_seconds
        self.wake = asyncio.Event()
        # Retry-After from a platform pauses the whole workspace (Slack's limits are per
        # workspace and method) or one conversation (Teams' limits are per conversation).
        self.paused: dict[tuple[str, str], datetime] = {}
        self.pacer = Pacer()
        # The fan-out's ledger writes, batched into few transactions (bot/storage/batched.py).
        self.ledger = BatchedWriter(services.db, label="tip ledger writes")
        self._messages: dict[str, tuple[Tip, Message]] = {}
        self._starts, self._sents = self._start_many, self._mark_sent  # the ledger's groups
        self._no_tips_logged = False
        self._ids: tuple[object, int, list[str]] | None = None
        # Shutdown: no new posts once stopping; `drain` waits for the in-flight ones.
        self.stopping = False
        self._inflight = 0
        self._drained = asyncio.Event()
        self._drained.set()
        # Ticks started and finished, so tests (and `/healthz`-style checks) can wait for
        # "the worker has looked at the current time" instead of sleeping.
        self.ticks_started = 0
        self.ticks_done = 0
        self._ticked = asyncio.Event()

    @property
    def tz(self):
        return self.services.settings.tz

    @property
    def clock(self):
        return self.services.clock

    def tip_ids(self) -> list[str]:
        """Every current tip id, sorted; worked out once per content library."""
        content = self.services.content
        if content is None:
            return []
        cached = self._ids
        if cached is None or cached[0] is not content.tips or cached[1] != len(content.tips):
            cached = (content.tips, len(content.tips), sorted(content.tips))
            self._ids = cached
        return cached[2]

    def tip(self, tip_id: str) -> Tip | None:
        content = self.services.content
        return content.tip(tip_id) if content else None

    def poke(self) -> None:
        """Wake the worker: a subscription changed."""
        self.wake.set()

    # --- schedule -------------------------------------------------------------------

    def reschedule(
        self,
        sub: Subscription,
        now: datetime,
        *,
        after: date | None = None,
        fresh: bool = False,
        keep: bool = False,
    ) -> None:
        """Set ``next_due`` to the first scheduled instant not older than the grace window
        (and after ``after``) whose day has no ledger row yet; log a skipped missed day.

        ``fresh`` (a new or changed subscription) looks forward from now instead, so
        subscribing at 10:00 to a 09:30 tip does not post one straight away. ``keep``
        (start-up) never moves a stored due time earlier, for the same reason: a restart
        at 10:05 must not post the 09:30 tip that a 10:00 subscription did not ask for."""
        oldest = now - self.grace
        not_before = now if fresh else oldest
        if not fresh and after is None and sub.next_due is not None and sub.next_due < oldest:
            log.warning(
                "tips: subscription %d skipped its delivery for %s: due %s, more than %d "
                "minutes ago (SECBOT_TIP_GRACE_MINUTES)",
                sub.id,
                sub.next_local_date,
                sub.next_due.isoformat(),
                int(self.grace.total_seconds() // 60),
            )
        if keep and sub.next_due is not None and sub.next_due <= now + TRUST_AHEAD:
            not_before = max(not_before, sub.next_due)
        day, due = next_delivery(sub.schedule, self.tz, not_before, after_day=after)
        while self.store.ledger.has_delivery(sub.id, day):
            day, due = next_delivery(sub.schedule, self.tz, due, after_day=day)
        self.store.subscriptions.set_next(sub.id, day, due)

    def _guarded(self, sub: Subscription, step: Callable[[], None]) -> None:
        """Run one channel's step inside a page's transaction; a failure (a bug, a bad
        row) is logged and that channel parked, without undoing the rest of the page."""
        conn = self.services.db.conn
        conn.execute("SAVEPOINT tip_channel")
        try:
            step()
        except Exception:
            conn.execute("ROLLBACK TO tip_channel")
            log.exception(
                "tips: subscription %d could not be scheduled; it will be tried again at the "
                "next start",
                sub.id,
            )
            self.store.subscriptions.park(sub.id)
        finally:
            conn.execute("RELEASE tip_channel")

    async def startup(self, now: datetime) -> None:
        """Settle what a previous run left behind; runs before the worker's first tick."""
        for row in self.store.ledger.interrupted():
            log.warning(
                "tips: delivery %d (subscription %d, %s) was being sent when secbot stopped; "
                "marking it unknown and not re-sending it, so no channel sees a tip twice",
                row.id,
                row.subscription_id,
                row.local_date or row.kind,
            )
            self.store.ledger.finish(row.id, UNKNOWN, "interrupted while sending", now)
        after_id = 0
        while subs := self.store.subscriptions.active(after_id=after_id, limit=PAGE):
            with self.store.batch():
                for sub in subs:
                    self._guarded(sub, lambda sub=sub: self.reschedule(sub, now, keep=True))
            after_id = subs[-1].id
            await asyncio.sleep(0)

    # --- claiming -------------------------------------------------------------------

    def claim(
        self,
        sub: Subscription,
        now: datetime,
        *,
        kind: str,
        due: datetime,
        local_date: date | None = None,
        test_slot: int | None = None,
        reread: bool = True,
        request_key: str | None = None,
    ) -> int | None:
        """Choose the channel's next tip and claim it in the ledger. ``reread=False`` when
        ``sub`` was read in the same transaction (a page of claims), so its cycle is fresh."""
        fresh = (self.store.subscriptions.get(sub.id) or sub) if reread else sub
        cycle = fresh.cycle
        choice = next_tip(
            fresh.place.key, cycle, self.store.ledger.served(sub.id, cycle), self.tip_ids()
        )
        if choice is None:
            if not self._no_tips_logged:
                log.warning("tips: there are no tips in the content library; nothing to send")
                self._no_tips_logged = True
            return None
        tip_id, cycle = choice
        return self.store.ledger.claim(
            sub.id,
            kind=kind,
            tip_id=tip_id,
            cycle=cycle,
            due=due,
            now=now,
            local_date=local_date,
            test_slot=test_slot,
            request_key=request_key,
        )

    def _claim_scheduled(self, sub: Subscription, now: datetime) -> bool:
        assert sub.next_due is not None and sub.next_local_date is not None
        if sub.next_due < now - self.grace:
            self.reschedule(sub, now)  # logs the skip
            return False
        claimed = self.claim(
            sub,
            now,
            kind="scheduled",
            due=sub.next_due,
            local_date=sub.next_local_date,
            reread=False,
        )
        self.reschedule(sub, now, after=sub.next_local_date)
        return claimed is not None

    async def claim_due(self, now: datetime) -> int:
        """Claim every subscription whose scheduled time has come; returns how many.

        A page at a time: each claimed channel's ``next_due`` moves on, so the next query
        returns the next page, and the loop ends when nothing is due."""
        claimed = 0
        while subs := self.store.subscriptions.due(now, limit=PAGE):
            with self.store.batch():
                for sub in subs:
                    done: list[bool] = []
                    self._guarded(
                        sub, lambda sub=sub, done=done: done.append(self._claim_scheduled(sub, now))
                    )
                    claimed += sum(done)
            await asyncio.sleep(0)
        return claimed

    async def claim_test_slots(self, now: datetime) -> int:
        """SECBOT_TIP_TEST_INTERVAL: one extra tip per subscription per N-second slot."""
        if not self.test_interval:
            return 0
        slot = int(now.timestamp() // self.test_interval)
        claimed = 0
        after_id = 0
        while subs := self.store.subscriptions.active(after_id=after_id, limit=PAGE):
            with self.store.batch():
                for sub in subs:
                    if self.claim(sub, now, kind="test", due=now, test_slot=slot, reread=False):
                        claimed += 1
            after_id = subs[-1].id
            await asyncio.sleep(0)
        return claimed

    def next_test_slot(self, now: datetime) -> datetime | None:
        if not self.test_interval or not self.store.subscriptions.count_active():
            return None
        slot = int(now.timestamp() // self.test_interval) + 1
        return datetime.fromtimestamp(slot * self.test_interval, tz=now.tzinfo)

    # --- sending --------------------------------------------------------------------

    def _group_ready(self, now: datetime, rows: dict[str, list[Delivery]]) -> None:
        """Group the ready rows by platform; mark those past the grace window missed."""
        for row in self.store.ledger.ready(now):
            if row.due_at < now - self.grace:
                log.warning(
                    "tips: delivery %d (subscription %d, %s) is more than %d minutes late; "
                    "skipping it",
                    row.id,
                    row.subscription_id,
                    row.local_date or row.kind,
                    int(self.grace.total_seconds() // 60),
                )
                self.store.ledger.finish(row.id, MISSED, "later than the grace window", now)
            else:
                platform = row.place.platform if row.place else ""
                rows.setdefault(platform, []).append(row)

    async def send_ready(self, now: datetime) -> list[SendResult]:
        """Send every pending row whose time has come: a pool of ``concurrency`` workers
        per platform (so a slow or paced platform does not hold up the others)."""
        rows: dict[str, list[Delivery]] = {}
        with self.store.batch():  # after a long outage, thousands may be marked missed
            self._group_ready(now, rows)
        if not rows:
            return []
        results: list[SendResult] = []

        async def worker(queue) -> None:
            # A worker does not wait for a post's outcome to be committed before taking
            # its next row: the outcome is queued first, so it is committed with (or
            # before) the next row's `sending`. It counts as in flight (for `drain`) until
            # the worker has seen it committed: before any pacing sleep, and at the end.
            unsettled = 0

            async def settle() -> None:
                nonlocal unsettled
                if unsettled:
                    await self.ledger.settled()
                    self._landed(unsettled)
                    unsettled = 0

            try:
                for row in queue:  # one shared iterator: each row is taken by one worker
                    if self.stopping:
                        results.append(DEFERRED)
                        continue
                    try:
                        result, posted = await self._send(row, settle)
                    except asyncio.CancelledError:
                        raise
                    except Exception:  # one channel's bug must not stop the others
                        log.exception("tips: delivery %d failed unexpectedly", row.id)
                        result, posted = SendResult("error"), False
                    results.append(result)
                    unsettled += posted
                await settle()
            finally:
                if unsettled:  # cancelled: the outcomes are still written, but not awaited
                    self._landed(unsettled)

        pools = []
        for batch in rows.values():
            queue = iter(batch)
            pools += [worker(queue) for _ in range(min(self.concurrency, len(batch)))]
        await asyncio.gather(*pools)
        summary = Counter(r.status for r in results)
        log.info(
            "tips: fan-out of %d: %s",
            len(results),
            ", ".join(f"{n} {status}" for status, n in sorted(summary.items())),
        )
        return results

    def _workspace_paused(self, place: Place) -> str | None:
        """Why delivery to the place's whole workspace is paused (bot/core/workspace_pause.py)."""
        pauses = self.services.workspaces
        return pauses.reason(place.platform, place.workspace) if pauses is not None else None

    def _pause_key(self, place: Place) -> tuple[str, str]:
        if place.platform == "slack":
            return place.platform, place.workspace
        return place.platform, place.channel

    async def send(self, row: Delivery) -> SendResult:
        """Post one claimed row and record the outcome; returns once it is committed."""
        result, posted = await self._send(row)
        if posted:
            try:
                await self.ledger.settled()
            finally:
                self._landed()
        return result

    async def _send(
        self, row: Delivery, settle: Callable[[], Awaitable[None]] | None = None
    ) -> tuple[SendResult, bool]:
        """``send`` without waiting for the outcome's commit. True if the row was posted
        (or attempted): its outcome is queued and it stays in flight for ``drain`` until
        the caller has seen the ledger settle. ``settle`` runs before a pacing sleep."""
        place = row.place
        if place is None:  # not from ready(): look the channel up
            sub = self.store.subscriptions.get(row.subscription_id)
            place = sub.place if sub else None
        # A row from ready() says whether its channel was active a moment ago; either way
        # the move to `sending` checks again, in the same statement, right before the post.
        if place is None or not (
            row.active or self.store.subscriptions.is_active(row.subscription_id)
        ):
            now = self.clock.now()
            self.store.ledger.finish(row.id, CANCELLED, "unsubscribed before sending", now)
            return CANCELLED_RESULT, False
        key = self._pause_key(place)
        halted = self._workspace_paused(place)
        if halted is None:
            # Per-conversation and per-workspace spacing (real seconds, see content/tips/pacing.py).
            await self.pacer.wait(place, before_sleep=settle)
        if self.stopping:
            return DEFERRED, False  # still pending: the next start sends it
        tip = self.tip(row.tip_id) or self._replacement(place, row)
        transport = self.services.transports.get(place.platform)
        why = None
        if halted is not None:
            # The platform refused us for the whole workspace: don't try its channels one
            # by one. The subscription stays on; tips flow again once an admin resumes.
            why = f"workspace paused ({halted})"
        elif tip is None or transport is None:
            why = "no such tip" if tip is None else f"{place.platform} is not connected"
        started = self._start(row, key, why)
        try:
            verdict = await started
        except asyncio.CancelledError:
            if started.done() and not started.cancelled() and started.result() is None:
                self._landed()  # marked sending but never posted: left for start-up to settle
            raise
        if verdict is not None:
            if verdict.status == "failed":
                log.warning("tips: delivery %d failed: %s", row.id, verdict.detail)
            return verdict, False
        try:
            result, write = await self._post(row, place, key, transport, tip)  # type: ignore[arg-type]
        except BaseException:
            self._landed()
            raise
        if isinstance(write, tuple):  # sent: one statement for all of a flush's
            self.ledger.record(write, group=self._sents, committed=self._recorded)
        else:
            self.ledger.record(write, committed=self._recorded)
        return result, True

    def _start(self, row: Delivery, key: tuple[str, str], why: str | None) -> asyncio.Future:
        """The last checks and ``pending -> sending``, in the ledger's next transaction.

        Resolves to None once the row is committed as ``sending`` (post it now), or to the
        result that stops it: deferred (stopping), cancelled (unsubscribed), retry (the
        workspace is paused), failed (``why``), skipped (another worker has it)."""
        return self.ledger.submit((row, key, why), group=self._starts, committed=self._took_off)

    def _start_many(
        self, items: list[tuple[Delivery, tuple[str, str], str | None]]
    ) -> list[SendResult | None]:
        """``_start`` for a flush's rows: the checks in memory, then one statement moves
        every row that passed (and whose channel is still active) to ``sending``."""
        now = self.clock.now()
        verdicts: list[SendResult | None] = [None] * len(items)
        ready: list[int] = []
        for i, (row, key, why) in enumerate(items):
            if self.stopping:
                verdicts[i] = DEFERRED  # still pending: the next start sends it
                continue
            paused_until = self.paused.get(key)
            if why is None and (paused_until is None or paused_until <= now):
                ready.append(i)
            else:
                verdicts[i] = self._not_started(row, why, paused_until, now)
        if ready:
            ids = list(dict.fromkeys(items[i][0].id for i in ready))
            taken = self.store.ledger.mark_sending_many(ids, now)
            claimed: set[int] = set()
            for i in ready:
                row = items[i][0]
                if row.id in taken and row.id not in claimed:
                    claimed.add(row.id)  # the first sender of this row posts it
                elif row.id in taken:
                    # Two senders of one row in one flush (`/tip send-now` racing the
                    # scheduler): the row moved once, so only the first may post it.
                    verdicts[i] = SendResult("skipped")
                else:
                    verdicts[i] = self._not_started(row, None, None, now)
        return verdicts

    def _not_started(
        self, row: Delivery, why: str | None, paused_until: datetime | None, now: datetime
    ) -> SendResult:
        """Why a row is not posted, checked in the same order as always."""
        if not self.store.subscriptions.is_active(
            row.subscription_id
        ):  # unsubscribed while waiting
            self.store.ledger.finish(row.id, CANCELLED, "unsubscribed before sending", now)
            return CANCELLED_RESULT
        if paused_until is not None and paused_until > now:
            self.store.ledger.retry_later(row.id, paused_until, "waiting for rate limit", now)
            return SendResult("retry", "paused")
        if why is not None:
            self.store.ledger.finish(row.id, FAILED, why, now)
            return SendResult("failed", why)
        return SendResult("skipped")

    def _mark_sent(self, items: list[tuple[int, str | None]]) -> list[None]:
        self.store.ledger.mark_sent_many(items, self.clock.now())
        return [None] * len(items)

    def _took_off(self, verdict: SendResult | None, error: BaseException | None) -> None:
        # Counted at the commit, so `drain` waits for a post from the moment it is `sending`.
        if verdict is None and error is None:
            self._inflight += 1
            self._drained.clear()

    def _landed(self, n: int = 1) -> None:
        self._inflight -= n
        if not self._inflight:
            self._drained.set()

    @staticmethod
    def _recorded(_value: object, error: BaseException | None) -> None:
        if error is not None:
            log.error(
                "tips: a delivery's outcome could not be recorded; it stays 'sending'",
                exc_info=error,
            )

    def _message(self, tip: Tip) -> Message:
        """``tip_message(tip)``, built once per tip: a fan-out posts the same few dozen
        messages thousands of times, and transports cache their rendering per message."""
        cached = self._messages.get(tip.id)
        if cached is None or cached[0] is not tip:
            cached = (tip, tip_message(tip))
            self._messages[tip.id] = cached
        return cached[1]

    async def _post(
        self, row: Delivery, place: Place, key, transport, tip: Tip
    ) -> tuple[SendResult, Callable[[], object] | tuple[int, str | None]]:
        """The platform call; returns the result and the ledger write that records it
        (for a post that went through, the item for ``store.mark_sent_many``)."""
        store = self.store
        try:
            ref = await transport.post(place, self._message(tip))
        except DeliveryFailed as e:
            return self._refused(row, key, e)
        except TimeoutError:
            # The request may have reached the platform: at-most-once, do not resend.
            log.warning("tips: delivery %d timed out; marking it unknown", row.id)
            now = self.clock.now()
            return SendResult("unknown"), lambda: store.ledger.finish(
                row.id, UNKNOWN, "timed out", now
            )
        except OSError as e:
            # Could not connect: nothing was posted, so trying again is safe.
            return self._refused(row, key, DeliveryFailed(type(e).__name__))
        except Exception:
            log.exception("tips: delivery %d failed unexpectedly; marking it unknown", row.id)
            now = self.clock.now()
            return SendResult("unknown"), lambda: store.ledger.finish(
                row.id, UNKNOWN, "unexpected error", now
            )
        log.debug("tips: delivered %d to subscription %d", row.id, row.subscription_id)
        return SENT_RESULT, (row.id, ref.id if ref else None)

    def _replacement(self, place: Place, row: Delivery) -> Tip | None:
        """The claimed tip was retired since: send the first tip still in the library."""
        ids = self.tip_ids()
        return self.tip(rotation_order(place.key, row.cycle, ids)[0]) if ids else None

    def _refused(
        self, row: Delivery, key: tuple[str, str], e: DeliveryFailed
    ) -> tuple[SendResult, Callable[[], object]]:
        """The platform said no, so nothing was posted: retry while within the grace window
        (send_ready marks it missed after that), unless the channel is gone.

        Returns the result and the ledger write recording it; the workspace pause takes
        effect at once, before the write is committed."""
        now = self.clock.now()
        store = self.store
        if e.scope == WORKSPACE:
            # Not this channel's doing: the channel stays subscribed, and the workspace is
            # paused (by the transport), so its other channels are not tried either.
            why = e.reason
            if not why.startswith("workspace paused"):
                why = f"workspace paused ({why})"
            return SendResult("failed", why), lambda: store.ledger.finish(row.id, FAILED, why, now)
        if e.permanent:
            log.warning(
                "tips: subscription %d is gone (%s); marking it inactive",
                row.subscription_id,
                e.reason,
            )

            def gone() -> None:
                store.ledger.finish(row.id, GONE, e.reason, now)
                store.subscriptions.deactivate(row.subscription_id, f"gone: {e.reason}", now)

            return SendResult("gone", e.reason), gone
        if e.retry_after is not None:
            # Honour Retry-After exactly, and hold back every other post to the same
            # workspace (Slack) or conversation (Teams) until then.
            wait = timedelta(seconds=max(1.0, e.retry_after))
            until = now + wait
            if self.paused.get(key, now) < until:
                self.paused[key] = until
        else:
            # Exponential backoff with jitter, so thousands of refused channels do not all
            # come back in the same second.
            wait = timedelta(seconds=TIPS.delay(min(row.attempts, 10) + 1))
        if row.due_at + self.grace < now + wait:
            log.warning(
                "tips: delivery %d refused (%s) and the grace window ends before it could be "
                "retried; skipping it",
                row.id,
                e.reason,
            )
            return SendResult("missed", e.reason), lambda: store.ledger.finish(
                row.id, MISSED, e.reason, now
            )
        log.info(
            "tips: delivery %d refused (%s); retrying in %ds",
            row.id,
            e.reason,
            int(wait.total_seconds()),
        )
        return SendResult("retry", e.reason), lambda: store.ledger.retry_later(
            row.id, now + wait, e.reason, now
        )

    # --- the loop -------------------------------------------------------------------

    async def tick(self) -> list[SendResult]:
        now = self.clock.now()
        await self.claim_due(now)
        await self.claim_test_slots(now)
        return await self.send_ready(now)

    def next_wake(self, now: datetime) -> datetime:
        """When the worker must next look: a due time, a retry, a test slot, or a while."""
        times = [
            t
            for t in (
                self.store.subscriptions.earliest_due(),
                self.store.ledger.earliest_retry(),
                self.next_test_slot(now),
            )
            if t is not None
        ]
        latest = now + timedelta(seconds=MAX_SLEEP)
        return min([*times, latest])

    async def run(self) -> None:
        try:
            await self.startup(self.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("tips: settling the previous run failed; carrying on")
        while not self.stopping:  # once stopping, the rows left stay pending for next time
            self.wake.clear()
            self.ticks_started += 1
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("tips: the delivery worker's tick failed; trying again shortly")
                self._tick_done()
                await self._wait(self.clock.now() + timedelta(seconds=30))
                continue
            self._tick_done()
            await self._wait(self.next_wake(self.clock.now()))

    def _tick_done(self) -> None:
        self.ticks_done += 1
        self._ticked.set()

    async def checked(self, timeout: float = 30.0) -> None:
        """Wait until the worker has finished a tick that started after this call: every
        delivery due by now has then been claimed and sent (or refused)."""
        target = self.ticks_started + 1
        self.poke()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.ticks_done < target:
            self._ticked.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("the tips worker did not finish a tick in time")
            try:
                await asyncio.wait_for(self._ticked.wait(), remaining)
            except TimeoutError:
                continue

    async def drain(self) -> None:
        """Graceful stop: start no new posts and give the ones on the wire up to
        ``SECBOT_TIP_DRAIN_SECONDS`` to finish and be recorded as sent."""
        self.stopping = True
        self.wake.set()
        if self._inflight and self.drain_seconds:
            try:
                await asyncio.wait_for(self._drained.wait(), self.drain_seconds)
            except TimeoutError:
                log.warning(
                    "tips: %d posts were still in flight after %d seconds; stopping anyway",
                    self._inflight,
                    self.drain_seconds,
                )

    async def _sleep_until(self, target: datetime) -> None:
        # An absolute target: time may move between working it out and starting to sleep.
        while (remaining := (target - self.clock.now()).total_seconds()) > 0:
            await self.clock.sleep(remaining)

    async def _wait(self, target: datetime) -> None:
        if target <= self.clock.now():
            await asyncio.sleep(0)
            return
        sleeper = asyncio.ensure_future(self._sleep_until(target))
        waker = asyncio.ensure_future(self.wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()

    # --- on demand ------------------------------------------------------------------

    async def send_now(
        self, sub: Subscription, request_key: str | None = None
    ) -> tuple[SendResult, bool]:
        """Deliver the channel's next tip now. Returns (result, counted_as_today).

        If today is one of the channel's delivery days and today's tip has not been
        claimed yet, this *is* today's delivery (the scheduled one will not follow).
        Otherwise it is an extra tip that leaves the schedule alone.

        ``request_key`` (the chat delivery that asked) is claimed with the ledger row, so
        the same request replayed after a crash finds its row: a pending one is sent now,
        any other is reported as it stands, and no second tip is claimed."""
        if request_key is not None:
            earlier = self.store.ledger.delivery_for_request(request_key)
            if earlier is not None:
                counted = earlier.local_date is not None
                if earlier.status == PENDING:
                    return await self.send(earlier), counted
                return SendResult(earlier.status), counted
        now = self.clock.now()
        today = now.astimezone(self.tz).date()
        counted = is_delivery_day(today, sub.schedule) and not self.store.ledger.has_delivery(
            sub.id, today
        )
        delivery_id = None
        if counted:
            with self.store.batch():  # the claim and the move to tomorrow together
                delivery_id = self.claim(
                    sub, now, kind="manual", due=now, local_date=today, request_key=request_key
                )
                if delivery_id is not None:
                    self.reschedule(sub, now, after=today)
        if delivery_id is None:
            counted = False
            delivery_id = self.claim(
                sub, now, kind="manual", due=now, test_slot=None, request_key=request_key
            )
        if delivery_id is None:
            return SendResult("failed", "no tips"), False
        row = self.store.ledger.get_delivery(delivery_id)
        assert row is not None
        return await self.send(row), counted
