"""The tip schedule: settling a previous run, working out each channel's next due time,
and claiming due deliveries in the ledger (a page of channels per transaction).

See ``content/tips/delivery.py`` for the ledger's life cycle and the restart rules.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from content.tips.doubt import Doubts
from content.tips.rotation import TipCatalogue, next_tip
from content.tips.schedule import next_delivery
from content.tips.store import Claim, Subscription, TipStore

if TYPE_CHECKING:
    from bot.core import Services

log = logging.getLogger(__name__)

# Channels claimed (or rescheduled at start-up) per transaction, between event-loop yields.
PAGE = 200
# How long the worker sleeps at most, so a changed system clock is noticed.
MAX_SLEEP = 300.0
# At start-up a stored next due time is kept (not moved earlier) if it is at most this far
# ahead; further than any real schedule's gap means the system clock was wrong.
TRUST_AHEAD = timedelta(days=31)


class TipScheduler:
    """Start-up settling, rescheduling and claiming; the fan-out sends what is claimed."""

    def __init__(
        self, services: Services, store: TipStore, catalogue: TipCatalogue, grace: timedelta
    ):
        self.services = services
        self.store = store
        self.catalogue = catalogue
        self.grace = grace
        self.test_interval = services.settings.tip_test_interval
        self._no_tips_logged = False
        self.doubts = Doubts(services, store)

    @property
    def tz(self):
        return self.services.settings.tz

    @property
    def clock(self):
        return self.services.clock

    async def reschedule(
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
        while await self.store.ledger.has_delivery(sub.id, day):
            day, due = next_delivery(sub.schedule, self.tz, due, after_day=day)
        await self.store.subscriptions.set_next(sub.id, day, due)

    async def _guarded(self, sub: Subscription, step: Callable[[], Awaitable[object]]) -> None:
        """Run one channel's step inside a page's transaction; a failure (a bug, a bad
        row) is logged and that channel parked, without undoing the rest of the page."""
        try:
            async with self.store.savepoint():
                await step()
        except Exception:
            log.exception(
                "tips: subscription %d could not be scheduled; it will be tried again at the "
                "next start",
                sub.id,
            )
            await self.store.subscriptions.park(sub.id)

    async def _page(
        self, subs: list[Subscription], step: Callable[[Subscription], Awaitable[object]]
    ) -> list[object]:
        """Run ``step`` for each channel of a page in one transaction; returns the steps'
        results. Each step first runs bare: a savepoint per channel would cost two more
        statements each, for a failure that almost never happens. If one fails, the page
        is rolled back and run again with a savepoint around each channel
        (``_guarded``), so only the failing channel is parked."""
        try:
            async with self.store.batch():
                return [await step(sub) for sub in subs]
        except Exception:
            results: list[object] = []

            async def kept(sub: Subscription) -> None:
                results.append(await step(sub))

            async with self.store.batch():
                for sub in subs:
                    await self._guarded(sub, partial(kept, sub))
            return results

    async def startup(self, now: datetime) -> None:
        """Work out every channel's next due time again (a changed clock or schedule, a
        missed day); runs before the worker's first tick. Rows a previous run left in
        ``sending`` are settled by ``settle_in_doubt`` once their lease has run out, not
        here: a sibling instance may be posting them right now."""
        after_id = 0
        while subs := await self.store.subscriptions.active(after_id=after_id, limit=PAGE):
            await self._page(subs, partial(self._keep_schedule, now=now))
            after_id = subs[-1].id
            await asyncio.sleep(0)

    async def settle_in_doubt(self, now: datetime, claim: Claim) -> int:
        """Settle the rows an instance left in ``sending`` when it stopped mid-post (its
        lease ran out): see ``content/tips/doubt.py``. Every round."""
        return await self.doubts.settle(now, claim)

    async def claim(
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
        hold: Claim | None = None,
    ) -> int | None:
        """Choose the channel's next tip and claim it in the ledger. ``reread=False`` when
        ``sub`` was read in the same transaction (a page of claims), so its cycle is fresh."""
        fresh = (await self.store.subscriptions.get(sub.id) or sub) if reread else sub
        cycle = fresh.cycle
        choice = next_tip(
            fresh.place.key,
            cycle,
            await self.store.ledger.served(sub.id, cycle),
            self.catalogue.tip_ids(),
        )
        if choice is None:
            if not self._no_tips_logged:
                log.warning("tips: there are no tips in the content library; nothing to send")
                self._no_tips_logged = True
            return None
        tip_id, cycle = choice
        return await self.store.ledger.claim(
            sub.id,
            kind=kind,
            tip_id=tip_id,
            cycle=cycle,
            due=due,
            now=now,
            local_date=local_date,
            test_slot=test_slot,
            request_key=request_key,
            hold=hold,
        )

    async def _keep_schedule(self, sub: Subscription, now: datetime) -> None:
        await self.reschedule(sub, now, keep=True)

    async def _claim_scheduled(self, sub: Subscription, now: datetime) -> bool:
        assert sub.next_due is not None and sub.next_local_date is not None
        if sub.next_due < now - self.grace:
            await self.reschedule(sub, now)  # logs the skip
            return False
        claimed = await self.claim(
            sub,
            now,
            kind="scheduled",
            due=sub.next_due,
            local_date=sub.next_local_date,
            reread=False,
        )
        await self.reschedule(sub, now, after=sub.next_local_date)
        return claimed is not None

    async def claim_due(self, now: datetime) -> int:
        """Claim every subscription whose scheduled time has come; returns how many.

        A page at a time: each claimed channel's ``next_due`` moves on, so the next query
        returns the next page, and the loop ends when nothing is due."""
        claimed = 0
        while subs := await self.store.subscriptions.due(now, limit=PAGE):
            done = await self._page(subs, partial(self._claim_scheduled, now=now))
            claimed += sum(1 for d in done if d)
            await asyncio.sleep(0)
        return claimed

    async def claim_test_slots(self, now: datetime) -> int:
        """SECBOT_TIP_TEST_INTERVAL: one extra tip per subscription per N-second slot."""
        if not self.test_interval:
            return 0
        slot = int(now.timestamp() // self.test_interval)
        claimed = 0
        after_id = 0
        while subs := await self.store.subscriptions.active(after_id=after_id, limit=PAGE):
            async with self.store.batch():
                for sub in subs:
                    if await self.claim(
                        sub, now, kind="test", due=now, test_slot=slot, reread=False
                    ):
                        claimed += 1
            after_id = subs[-1].id
            await asyncio.sleep(0)
        return claimed

    async def next_test_slot(self, now: datetime) -> datetime | None:
        if not self.test_interval or not await self.store.subscriptions.count_active():
            return None
        slot = int(now.timestamp() // self.test_interval) + 1
        return datetime.fromtimestamp(slot * self.test_interval, tz=now.tzinfo)

    async def next_wake(self, now: datetime) -> datetime:
        """When the worker must next look: a due time, a retry, another instance's lease
        running out, a test slot, or a while."""
        times = [
            t
            for t in (
                await self.store.subscriptions.earliest_due(),
                await self.store.ledger.earliest_retry(now),
                await self.store.leases.lease_ends(now),
                await self.next_test_slot(now),
            )
            if t is not None
        ]
        latest = now + timedelta(seconds=MAX_SLEEP)
        return min([*times, latest])
