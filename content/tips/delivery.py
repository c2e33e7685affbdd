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
3. **Restart, and several instances.** The fan-out claims ready ``pending`` rows a page
   at a time with a lease (``content/tips/lease.py``); an instance that dies leaves its
   page leased until the lease runs out, and then whichever instance looks next sends
   the rows (if still within the grace window, ``SECBOT_TIP_GRACE_MINUTES``, default
   180; ``missed`` otherwise). Rows it left in ``sending`` are settled once their lease
   has run out (``content/tips/doubt.py``): nothing is reset wholesale at start. At
   start-up each subscription's next due time is worked out again (today's slot if it is
   within the grace window and unclaimed), but never moved earlier than the stored one,
   so a restart does not post a slot from before the channel subscribed.

A row in ``sending`` means the instance died (or gave up, after half the lease) during
the one API call, and neither Slack's ``chat.postMessage`` nor the Bot Connector
de-duplicates a repeated post, so re-sending blindly could show the channel the same tip
twice. Instead every post carries its row's id as an idempotency key (Slack: message
metadata), and the settling instance asks the platform whether it arrived:

- **Slack: exactly once.** The channel's history (``conversations.history`` with the
  metadata, from the row's ``sending`` time) shows the post: recorded ``sent``; or shows
  it is not there: back to ``pending``, sent once more. Needs ``channels:history`` /
  ``groups:history`` and the bot in the channel.
- **Teams, the web chat, and Slack when it can't tell** (a missing scope, a channel the
  bot only posts to through ``chat:write.public``, a rate limit, an error): the row is
  ``unknown``, logged and never re-sent: **at most once**. The Bot Connector has no way
  for a bot to read a conversation's messages. The window is one HTTP round trip per
  in-flight channel (at most ``SECBOT_TIP_CONCURRENCY`` per platform per instance).

Channels that never reached ``sending`` are never lost.

A *graceful* stop (a deploy, ``SIGTERM``) leaves nothing in ``sending``: the worker
stops starting new posts, waits up to ``SECBOT_TIP_DRAIN_SECONDS`` (default 5) for the
posts already on the wire to finish and be recorded, and gives the rest back
(``pending``, no lease) for the next instance to look. Only a hard crash (or a post that
timed out) can leave a row in doubt.

Missed days older than the grace window are skipped and logged (ids and dates only,
never message text), so a bot that was down all weekend does not post Friday's tip on
Monday afternoon. A refused post (a rate limit, a server error, no connection) is retried
with backoff for as long as it is within the grace window.

**Where each part lives.** ``doubt.py`` settles in-doubt rows; ``scheduler.py``
reschedules and claims (``PAGE`` channels per transaction, yielding to the event loop
between pages, so people's commands are still answered during a big fan-out);
``fanout.py`` claims what is ready a page at a time (``lease.py``) and posts it, at most
``SECBOT_TIP_CONCURRENCY`` posts on the wire per platform, paced by ``pacing.py``;
``writes.py`` batches the fan-out's ledger writes and counts the posts in flight;
``refusals.py`` turns a platform's refusal into a retry, a skip or a gone channel;
``rotation.py`` picks the tip. Every query is served by an index (``tip_subscriptions
(active, next_due)``, partial indexes on the ``pending`` and ``sending`` rows of
``tip_deliveries``, the ledger's unique keys). This module holds the worker (one
``bot.workers.Worker``) and ``/tip send-now``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.leadership import Leadership
from bot.storage.sql import DB_ERRORS
from bot.workers import Worker
from content.tips.fanout import FanOut
from content.tips.lease import Lease
from content.tips.refusals import Refusals
from content.tips.results import SendResult
from content.tips.rotation import TipCatalogue
from content.tips.schedule import is_delivery_day
from content.tips.scheduler import MAX_SLEEP, TipScheduler
from content.tips.store import PENDING, Subscription, TipStore
from content.tips.writes import LedgerWrites

if TYPE_CHECKING:
    from bot.core import Services
    from content.library.models import Tip

log = logging.getLogger(__name__)

# A round that failed (a bug, a locked database) is tried again after this long.
RETRY_ROUND_SECONDS = 30.0


class TipDelivery:
    """Owns the schedule and the fan-out; one per app: ``services.feature(TipDelivery)``."""

    def __init__(self, services: Services):
        self.services = services
        self.clock = services.clock
        self.store = TipStore(services.db)
        # Upper bounds too: a huge grace or interval overflows the date arithmetic.
        settings = services.settings
        grace = timedelta(minutes=settings.tip_grace_minutes)
        self.drain_seconds = settings.tip_drain_seconds
        self.catalogue = TipCatalogue(services)
        self.scheduler = TipScheduler(services, self.store, self.catalogue, grace)
        self.refusals = Refusals(services, self.store, grace)
        # This instance's name on the ledger rows it works on (content/tips/lease.py).
        self.lease = Lease(getattr(services, "instance", None), seconds=settings.tip_lease_seconds)
        self.writes = LedgerWrites(services, self.store, self.refusals, self.lease)
        self.fanout = FanOut(
            services, self.store, self.catalogue, self.writes, self.refusals, grace
        )
        self.worker = Worker(
            "tips",
            self._round,
            every=MAX_SLEEP,
            clock=services.clock,
            back_off=(RETRY_ROUND_SECONDS,),
        )
        self._settled = False
        leadership = services.find_feature(Leadership)
        if leadership is not None:  # an instance that takes over looks at once
            leadership.watch(self.poke)
        # Ticks started and finished, so tests (and `/healthz`-style checks) can wait for
        # "the worker has looked at the current time" instead of sleeping.
        self.ticks_started = 0
        self.ticks_done = 0
        self._ticked = asyncio.Event()

    @property
    def tz(self):
        return self.scheduler.tz

    @property
    def stopping(self) -> bool:
        return self.writes.stopping

    def tip_ids(self) -> list[str]:
        return self.catalogue.tip_ids()

    def tip(self, tip_id: str) -> Tip | None:
        return self.catalogue.tip(tip_id)

    def poke(self) -> None:
        """Wake the worker: a subscription changed."""
        self.worker.wake()

    # --- the worker -----------------------------------------------------------------

    async def tick(self) -> list[SendResult]:
        now = self.clock.now()
        await self.refusals.paused.sync(now)  # Retry-After pauses any instance learnt
        # Rows a dead instance was sending, once its lease ran out: any instance settles them.
        await self.scheduler.settle_in_doubt(now, self.writes.claim())
        if self.leads():  # the schedule is claimed once per cluster (bot/leadership.py)
            await self.scheduler.claim_due(now)
            await self.scheduler.claim_test_slots(now)
        return await self.fanout.send_ready(now)

    def leads(self) -> bool:
        """Whether this instance runs the scheduler: the cluster's leader (or, with no
        leadership in this app, as in a bare test, this instance)."""
        leadership = self.services.find_feature(Leadership)
        return leadership is None or leadership.is_leader

    async def _round(self) -> float | None:
        """One round of the worker: settle what a previous run left (the first round
        only), then claim and send what is due; returns the seconds until the next look
        (a due time, a retry, a test slot, or a while)."""
        if not self._settled:
            self._settled = True
            try:
                await self.scheduler.startup(self.clock.now())
            except Exception:
                log.exception("tips: settling the previous run failed; carrying on")
        if self.stopping:  # the rows left stay pending for the next start
            return None
        self.ticks_started += 1
        try:
            await self.tick()
        finally:
            self.ticks_done += 1
            self._ticked.set()
        wake = await self.scheduler.next_wake(self.clock.now())
        # The time again after the reads: the clock may have moved while they ran.
        return max(0.0, (wake - self.clock.now()).total_seconds())

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
        """Graceful stop: start no new posts, give the ones on the wire up to
        ``SECBOT_TIP_DRAIN_SECONDS`` to finish and be recorded as sent, and give back the
        rows claimed but not started, so the next instance sends them at once."""
        await self.writes.drain(self.drain_seconds)
        try:
            await self.store.leases.release(self.lease.owner)
        except DB_ERRORS:  # they are taken over when the lease runs out instead
            log.exception("tips: could not give back the claimed tips")

    async def _renewing(self) -> None:
        """Renew this instance's leases while a fan-out or a post is in hand."""
        while True:
            await asyncio.sleep(self.lease.renew_every)
            if self.fanout.active or self.writes.inflight:
                try:
                    await self.store.leases.renew(self.writes.claim())
                except DB_ERRORS:
                    log.exception("tips: could not renew the claimed tips' lease")

    async def background(self, services: Any = None) -> AsyncIterator[None]:
        """For ``FeatureHost.add_background``: runs the worker until shutdown, then drains
        *before* stopping it, so a deploy or restart never leaves a tip half-sent."""
        self.worker.start()
        renewer = asyncio.create_task(self._renewing())
        try:
            yield
        finally:
            await self.drain()  # let posts already on the wire finish and be recorded
            await self.worker.stop()
            renewer.cancel()

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
            earlier = await self.store.ledger.delivery_for_request(request_key)
            if earlier is not None:
                counted = earlier.local_date is not None
                if earlier.status == PENDING:
                    return await self.fanout.send(earlier), counted
                return SendResult(earlier.status), counted
        now = self.clock.now()
        today = now.astimezone(self.tz).date()
        # The row is ours from its insert (leased to this instance): the background
        # fan-out takes only rows nobody holds, so it does not post it first and leave
        # the admin hearing "on its way" instead of how this post went. Should this
        # process die before posting, the lease runs out and the fan-out sends it.
        hold = self.fanout.writes.claim()
        # The check, the claim and the move to tomorrow in one transaction: `/tip
        # send-now` racing the scheduler (or itself) counts today's tip once.
        async with self.store.batch():
            counted = is_delivery_day(
                today, sub.schedule
            ) and not await self.store.ledger.has_delivery(sub.id, today)
            delivery_id = None
            if counted:
                delivery_id = await self.scheduler.claim(
                    sub,
                    now,
                    kind="manual",
                    due=now,
                    local_date=today,
                    request_key=request_key,
                    hold=hold,
                )
                if delivery_id is not None:
                    await self.scheduler.reschedule(sub, now, after=today)
            if delivery_id is None:
                counted = False
                delivery_id = await self.scheduler.claim(
                    sub,
                    now,
                    kind="manual",
                    due=now,
                    test_slot=None,
                    request_key=request_key,
                    hold=hold,
                )
            row = await self.store.ledger.get_delivery(delivery_id) if delivery_id else None
        if row is None:
            return SendResult("failed", "no tips"), False
        result = await self.fanout.send(row)
        if result.status == "in doubt":
            # Left to be looked for once its lease runs out; the worker's sleep was set
            # before this row existed, so it must work out its next look again.
            self.poke()
        return result, counted
