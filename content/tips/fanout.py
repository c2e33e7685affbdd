"""The fan-out: posting every claimed delivery that is ready.

A pool of ``SECBOT_TIP_CONCURRENCY`` workers per platform (so a slow or paced platform does
not hold up the others), paced per conversation and per workspace by
``content/tips/pacing.py``. A worker posts only once its row's ``sending`` is committed,
and queues each outcome before its next row's ``sending`` (``content/tips/writes.py``), so
the rows in ``sending`` are never more than the posts on the wire.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core import DeliveryFailed, PostInDoubt
from bot.core.model import Message, Place
from content.tips.doubt import tip_key
from content.tips.lease import PAGE_ROWS, post_seconds
from content.tips.message import tip_message
from content.tips.pacing import Pacer
from content.tips.results import CANCELLED_RESULT, DEFERRED, SENT_RESULT, SendResult
from content.tips.rotation import TipCatalogue
from content.tips.store import CANCELLED, MISSED, UNKNOWN, Delivery, TipStore

if TYPE_CHECKING:
    from bot.core import Services
    from content.library.models import Tip
    from content.tips.refusals import Refusals
    from content.tips.writes import LedgerWrites

log = logging.getLogger(__name__)


class FanOut:
    """Sends ready deliveries and records each outcome."""

    def __init__(
        self,
        services: Services,
        store: TipStore,
        catalogue: TipCatalogue,
        writes: LedgerWrites,
        refusals: Refusals,
        grace: timedelta,
    ):
        self.services = services
        self.store = store
        self.catalogue = catalogue
        self.writes = writes
        self.refusals = refusals
        self.grace = grace
        self.concurrency = services.settings.tip_concurrency
        self.pacer = Pacer()
        self._messages: dict[str, tuple[Tip, Message]] = {}
        self.active = 0  # fan-outs running (the lease renewer renews while any is)
        # The longest one post may take, retries included (content/tips/lease.py).
        self.post_seconds = post_seconds(writes.lease.seconds)

    @property
    def clock(self):
        return self.services.clock

    async def send_ready(self, now: datetime) -> list[SendResult]:
        """Send every pending row whose time has come (as of ``now``): claimed a page at
        a time with a lease (``content/tips/lease.py``), posted by a pool of workers per
        platform (so a slow or paced platform does not hold up the others)."""
        feed = _Feed(self, now)
        self.active += 1
        try:
            await feed.run()
        finally:
            self.active -= 1
        if not feed.results:
            return []
        summary = Counter(r.status for r in feed.results)
        log.info(
            "tips: fan-out of %d: %s",
            len(feed.results),
            ", ".join(f"{n} {status}" for status, n in sorted(summary.items())),
        )
        return feed.results

    async def _claim_page(self, now: datetime) -> list[Delivery]:
        """The next page of ready rows, claimed for this instance; rows past the grace
        window are marked missed instead (in one transaction: after a long outage, a
        page may be all of them)."""
        claim = self.writes.claim()
        rows = await self.store.leases.claim_page(now, claim, PAGE_ROWS)
        late = [row for row in rows if row.due_at < now - self.grace]
        if late:
            async with self.store.batch():
                for row in late:
                    log.warning(
                        "tips: delivery %d (subscription %d, %s) is more than %d minutes "
                        "late; skipping it",
                        row.id,
                        row.subscription_id,
                        row.local_date or row.kind,
                        int(self.grace.total_seconds() // 60),
                    )
                    await self.store.ledger.finish(
                        row.id, MISSED, "later than the grace window", now
                    )
            rows = [row for row in rows if row.due_at >= now - self.grace]
        return rows

    async def _work(self, feed: _Feed, platform: str) -> None:
        """One worker: takes the platform's rows from the feed until there are none.

        A worker does not wait for a post's outcome to be committed before taking its
        next row: the outcome is queued first, so it is committed with (or before) the
        next row's `sending`. It counts as in flight (for `drain`) until the worker has
        seen it committed: before any pacing sleep, and at the end."""
        unsettled = 0

        async def settle() -> None:
            nonlocal unsettled
            if unsettled:
                await self.writes.settled()
                self.writes.landed(unsettled)
                unsettled = 0

        try:
            while (row := await feed.take(platform)) is not None:
                if self.writes.stopping:
                    feed.results.append(DEFERRED)
                    continue
                try:
                    result, posted = await self._send(row, settle)
                except asyncio.CancelledError:
                    raise
                except Exception:  # one channel's bug must not stop the others
                    log.exception("tips: delivery %d failed unexpectedly", row.id)
                    result, posted = SendResult("error"), False
                feed.results.append(result)
                unsettled += posted
            await settle()
        finally:
            feed.finished(platform)
            if unsettled:  # cancelled: the outcomes are still written, but not awaited
                self.writes.landed(unsettled)

    def _workspace_paused(self, place: Place) -> str | None:
        """Why delivery to the place's whole workspace is paused (bot/core/workspace_pause.py)."""
        pauses = self.services.workspaces
        return pauses.reason(place.platform, place.workspace) if pauses is not None else None

    async def send(self, row: Delivery) -> SendResult:
        """Post one claimed row and record the outcome; returns once it is committed."""
        result, posted = await self._send(row)
        if posted:
            try:
                await self.writes.settled()
            finally:
                self.writes.landed()
        return result

    async def _send(
        self, row: Delivery, settle: Callable[[], Awaitable[None]] | None = None
    ) -> tuple[SendResult, bool]:
        """``send`` without waiting for the outcome's commit. True if the row was posted
        (or attempted): its outcome is queued and it stays in flight for ``drain`` until
        the caller has seen the ledger settle. ``settle`` runs before a pacing sleep."""
        place = row.place
        if place is None:  # not from ready(): look the channel up
            sub = await self.store.subscriptions.get(row.subscription_id)
            place = sub.place if sub else None
        # A row from ready() says whether its channel was active a moment ago; either way
        # the move to `sending` checks again, in the same statement, right before the post.
        if place is None or not (
            row.active or await self.store.subscriptions.is_active(row.subscription_id)
        ):
            now = self.clock.now()
            await self.store.ledger.finish(row.id, CANCELLED, "unsubscribed before sending", now)
            return CANCELLED_RESULT, False
        key = self.refusals.pause_key(place)
        halted = self._workspace_paused(place)
        if halted is None:
            # Per-conversation and per-workspace spacing (real seconds, see content/tips/pacing.py).
            await self.pacer.wait(place, before_sleep=settle)
        if self.writes.stopping:
            return DEFERRED, False  # still pending: the next start sends it
        tip = self.catalogue.tip(row.tip_id) or self.catalogue.replacement(place, row)
        transport = self.services.transports.get(place.platform)
        why = None
        if halted is not None:
            # The platform refused us for the whole workspace: don't try its channels one
            # by one. The subscription stays on; tips flow again once an admin resumes.
            why = f"workspace paused ({halted})"
        elif tip is None or transport is None:
            why = "no such tip" if tip is None else f"{place.platform} is not connected"
        started = self.writes.start(row, key, why)
        try:
            verdict = await started
        except asyncio.CancelledError:
            if started.done() and not started.cancelled() and started.result() is None:
                self.writes.landed()  # marked sending but never posted: left for start-up to settle
            raise
        if verdict is not None:
            if verdict.status == "failed":
                log.warning("tips: delivery %d failed: %s", row.id, verdict.detail)
            return verdict, False
        try:
            result, write = await self._post(row, place, key, transport, tip)  # type: ignore[arg-type]
        except BaseException:
            self.writes.landed()
            raise
        self.writes.record(write)
        return result, True

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
        (for a post that went through, the item for ``Ledger.mark_sent_and_sending``)."""
        store = self.store
        try:
            # Bounded well inside the row's lease (lease.py: a sibling may settle a row
            # only once its lease has run out, so it never looks while this is on the wire).
            # Only where the post can be looked for: elsewhere it is never re-sent, so it
            # may take as long as it takes (its lease is renewed meanwhile).
            bound = self.post_seconds if getattr(transport, "finds_posts", False) else None
            async with asyncio.timeout(bound):
                ref = await transport.post(place, self._message(tip), key=tip_key(row.id))
        except DeliveryFailed as e:
            return self.refusals.refused(row, key, e)
        except (TimeoutError, PostInDoubt) as e:
            # The request may have reached the platform: the row stays `sending`, held by
            # nobody for one lease (time for the platform to finish with it), and is then
            # settled by asking the platform (content/tips/doubt.py), not re-sent blindly.
            why = "timed out" if isinstance(e, TimeoutError) else f"connection lost ({e})"
            log.warning("tips: delivery %d %s; it will be looked for", row.id, why)
            until = self.writes.claim().until
            return SendResult("in doubt", why), lambda: store.leases.leave_in_doubt(
                row.id, until, why
            )
        except OSError as e:
            # Could not connect: nothing was posted, so trying again is safe.
            return self.refusals.refused(row, key, DeliveryFailed(type(e).__name__))
        except Exception:
            log.exception("tips: delivery %d failed unexpectedly; marking it unknown", row.id)
            now = self.clock.now()
            return SendResult("unknown"), lambda: store.ledger.finish(
                row.id, UNKNOWN, "unexpected error", now
            )
        log.debug("tips: delivered %d to subscription %d", row.id, row.subscription_id)
        return SENT_RESULT, (row.id, ref.id if ref else None)


class _Feed:
    """A fan-out's rows: claimed a page at a time, queued per platform, and taken by
    that platform's workers.

    The next page is claimed while the last rows of the current one go out, so workers do
    not wait at a page boundary. Workers start as a page brings rows for their platform (up
    to ``concurrency``) and stop when their queue is empty and the fan-out has nothing left,
    or when other platforms' rows already fill a page (those platforms' workers claim the
    next page, and it starts this platform's workers again if it brings its rows)."""

    def __init__(self, fanout: FanOut, now: datetime):
        self.fanout = fanout
        self.now = now
        self.results: list[SendResult] = []
        self.queues: dict[str, deque[Delivery]] = {}
        self.workers: Counter[str] = Counter()
        self.queued = 0
        self.exhausted = False
        self._claiming: asyncio.Future[None] | None = None  # a page being claimed
        self._group: asyncio.TaskGroup | None = None

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            await self._next_page()

    async def take(self, platform: str) -> Delivery | None:
        queue = self.queues[platform]
        while not queue:
            if self.exhausted or self.fanout.writes.stopping or self.queued >= PAGE_ROWS:
                return None
            await self._claimed()
        self.queued -= 1
        if len(queue) < self.fanout.concurrency and self._claiming is None:
            # Running low: claim the next page while the posts in hand go out, so the
            # workers never wait at a page boundary.
            self._claiming = asyncio.get_running_loop().create_future()
            assert self._group is not None
            self._group.create_task(self._claim())
        return queue.popleft()

    async def _claimed(self) -> None:
        """Until the next page is in: claim it, or wait for the claim under way. Every
        waiter is woken at once (not one a turn, as waiters on a lock would be)."""
        if self._claiming is None:
            self._claiming = asyncio.get_running_loop().create_future()
            await self._claim()
        else:
            await asyncio.shield(self._claiming)

    async def _claim(self) -> None:
        claiming = self._claiming
        try:
            if not self.exhausted and self.queued < PAGE_ROWS:
                await self._next_page()
        finally:
            self._claiming = None
            if claiming is not None and not claiming.done():
                claiming.set_result(None)

    def finished(self, platform: str) -> None:
        self.workers[platform] -= 1

    async def _next_page(self) -> None:
        if self.fanout.writes.stopping:
            self.exhausted = True
            return
        rows = await self.fanout._claim_page(self.now)
        if not rows:
            self.exhausted = True
            return
        for row in rows:
            platform = row.place.platform if row.place else ""
            self.queues.setdefault(platform, deque()).append(row)
        self.queued += len(rows)
        most = self.fanout.concurrency
        assert self._group is not None
        for platform, queue in self.queues.items():
            for _ in range(min(most - self.workers[platform], len(queue))):
                self.workers[platform] += 1
                self._group.create_task(self.fanout._work(self, platform))
