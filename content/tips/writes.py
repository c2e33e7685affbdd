"""The fan-out's ledger writes, and the posts in flight.

The moves to ``sending`` (with the last checks before a post) and the outcomes are batched
(``bot/storage/batched.py``): those queued within a few turns of the event loop go in one
flush, most often one UPDATE for all of them that commits by itself (no block around the
flush: on SQLite that is one trip to the database's thread, which every post waits for).
A post counts as in flight from the commit of its
``sending`` until its outcome is committed, so a graceful stop (``drain``) can wait for
exactly those.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.storage.batched import BatchedWriter
from bot.storage.sql import DB_ERRORS
from content.tips.lease import Lease
from content.tips.results import CANCELLED_RESULT, DEFERRED, SendResult
from content.tips.store import CANCELLED, FAILED, Claim, Delivery, TipStore
from content.tips.store.ledger import MANY, SENT_CHUNK

if TYPE_CHECKING:
    from bot.core import Services
    from content.tips.refusals import Refusals

log = logging.getLogger(__name__)

# The two kinds of write in the hot group (``LedgerWrites._hot_many``).
START_WRITE, SENT_WRITE = "start", "sent"


class LedgerWrites:
    """Batched ledger writes for the fan-out, and the graceful-stop bookkeeping."""

    def __init__(self, services: Services, store: TipStore, refusals: Refusals, lease: Lease):
        self.services = services
        self.store = store
        self.refusals = refusals
        self.lease = lease
        # Each write is one conditional UPDATE (or a store method's own block): a flush
        # need not be one transaction, and on SQLite its hot statement then commits in
        # the one trip that runs it (bot/storage/one_trip.py).
        self.batched = BatchedWriter(services.db, label="tip ledger writes", together=False)
        # One group for both kinds of a flush's hot writes (a post's move to `sending`, a
        # post's `sent`): one statement for the two (`Ledger.mark_sent_and_sending`).
        self._hot = self._hot_many
        # Shutdown: no new posts once stopping; `drain` waits for the in-flight ones.
        self.stopping = False
        self.inflight = 0
        self._drained = asyncio.Event()
        self._drained.set()

    @property
    def clock(self):
        return self.services.clock

    def claim(self) -> Claim:
        """This instance's lease on the rows a write takes, from now."""
        return Claim(self.lease.owner, self.lease.until(self.clock.now()))

    def record(self, write: Callable[[], object] | tuple[int, str | None]) -> None:
        """Queue a post's outcome: for a post that went through, the item for
        ``store.ledger.mark_sent_and_sending`` (one statement for all of a flush's, with
        its moves to ``sending``)."""
        if isinstance(write, tuple):
            self.batched.record((SENT_WRITE, write), group=self._hot, committed=self._recorded)
        else:
            self.batched.record(write, committed=self._recorded)

    async def settled(self) -> None:
        """Until every write queued so far is committed."""
        await self.batched.settled()

    def start(self, row: Delivery, key: tuple[str, str], why: str | None) -> asyncio.Future:
        """The last checks and ``pending -> sending``, in the ledger's next transaction.

        Resolves to None once the row is committed as ``sending`` (post it now), or to the
        result that stops it: deferred (stopping), cancelled (unsubscribed), retry (the
        workspace is paused), failed (``why``), skipped (another worker has it)."""
        return self.batched.submit(
            (START_WRITE, (row, key, why)), group=self._hot, committed=self._took_off
        )

    async def _hot_many(self, tagged: list[tuple[str, Any]]) -> list[SendResult | None]:
        """A flush's posts that came back (``record``) and posts about to go (``start``):
        the sent ones are written with the moves to ``sending``, in one statement."""
        sent = [item for kind, item in tagged if kind == SENT_WRITE]
        starts = [item for kind, item in tagged if kind == START_WRITE]
        # The writer puts no transaction around a flush (``together=False``), and a group
        # that raises is tried again item by item: so it must raise only when nothing it
        # wrote has committed. One statement is so by itself; more go in one block.
        if len(sent) <= SENT_CHUNK and len(starts) <= MANY:
            found = await self._start_many(starts, sent, lone=True)
        else:
            async with self.store.batch():
                found = await self._start_many(starts, sent)
        verdicts = iter(found)
        return [next(verdicts) if kind == START_WRITE else None for kind, _ in tagged]

    async def _start_many(
        self,
        items: list[tuple[Delivery, tuple[str, str], str | None]],
        sent: list[tuple[int, str | None]],
        *,
        lone: bool = False,
    ) -> list[SendResult | None]:
        """``start`` for a flush's rows: the checks in memory, then one statement moves
        every row that passed (and whose channel is still active) to ``sending`` and
        records the ``sent`` posts. ``lone``: that statement commits by itself, so what
        follows it must not raise (a row it did not take that cannot be finished as
        cancelled stays as it is, claimed, and is looked at again)."""
        now = self.clock.now()
        verdicts: list[SendResult | None] = [None] * len(items)
        ready: list[int] = []
        for i, (row, key, why) in enumerate(items):
            if self.stopping:
                verdicts[i] = DEFERRED  # still pending: the next start sends it
                continue
            paused_until = self.refusals.paused.get(key)
            if why is None and (paused_until is None or paused_until <= now):
                ready.append(i)
            else:
                verdicts[i] = await self._not_started(row, why, paused_until, now)
        ids = list(dict.fromkeys(items[i][0].id for i in ready))
        if ids or sent:
            taken = await self.store.ledger.mark_sent_and_sending(sent, ids, now, self.claim())
            claimed: set[int] = set()
            for i in ready:
                row = items[i][0]
                if row.id in taken and row.id not in claimed:
                    claimed.add(row.id)  # the first sender of this row posts it
                elif row.id in taken:
                    # Two senders of one row in one flush (`/tip send-now` racing the
                    # scheduler): the row moved once, so only the first may post it.
                    verdicts[i] = SendResult("skipped")
                elif not lone:
                    verdicts[i] = await self._not_started(row, None, None, now)
                else:
                    try:
                        verdicts[i] = await self._not_started(row, None, None, now)
                    except DB_ERRORS:
                        log.exception("tips: delivery %d was not started", row.id)
                        verdicts[i] = SendResult("error")
        return verdicts

    async def _not_started(
        self, row: Delivery, why: str | None, paused_until: datetime | None, now: datetime
    ) -> SendResult:
        """Why a row is not posted, checked in the same order as always."""
        if not await self.store.subscriptions.is_active(row.subscription_id):  # unsubscribed
            await self.store.ledger.finish(row.id, CANCELLED, "unsubscribed before sending", now)
            return CANCELLED_RESULT
        if paused_until is not None and paused_until > now:
            await self.store.ledger.retry_later(row.id, paused_until, "waiting for rate limit", now)
            return SendResult("retry", "paused")
        if why is not None:
            await self.store.ledger.finish(row.id, FAILED, why, now)
            return SendResult("failed", why)
        return SendResult("skipped")

    def _took_off(self, verdict: SendResult | None, error: BaseException | None) -> None:
        # Counted at the commit, so `drain` waits for a post from the moment it is `sending`.
        if verdict is None and error is None:
            self.inflight += 1
            self._drained.clear()

    def landed(self, n: int = 1) -> None:
        self.inflight -= n
        if not self.inflight:
            self._drained.set()

    @staticmethod
    def _recorded(_value: object, error: BaseException | None) -> None:
        if error is not None:
            log.error(
                "tips: a delivery's outcome could not be recorded; it stays 'sending'",
                exc_info=error,
            )

    async def drain(self, seconds: float) -> None:
        """Graceful stop: start no new posts and give the ones on the wire up to
        ``seconds`` (``SECBOT_TIP_DRAIN_SECONDS``) to finish and be recorded as sent."""
        self.stopping = True
        if self.inflight and seconds:
            try:
                await asyncio.wait_for(self._drained.wait(), seconds)
            except TimeoutError:
                log.warning(
                    "tips: %d posts were still in flight after %d seconds; stopping anyway",
                    self.inflight,
                    seconds,
                )
