"""Which deliveries have been processed, so a retried one has no second effect, and a
resent one whose handler died with its process is not lost.

Slack retries events and may deliver the same slash command twice; Teams may resend an
activity; the web chat page sends a message again with the same request id when it got
no answer. The key is the platform's own identity for the delivery.

A row is in one of three states:

- **claimed** (``lease_until`` set, ``finished_at`` empty): a handler on the instance
  ``claimed_by`` is running it now, on a path where the request waits for the answer
  (the web chat, a Teams invoke). The holder renews the lease while the handler runs
  (:data:`bot.storage.leases.RENEW_SECONDS`). A copy arriving meanwhile is still being
  worked on; one arriving after the lease ran out (the process died mid-handler) takes
  the claim over and is handled, because nobody else will finish it.
- **finished** (``finished_at`` set): handled; any copy is a repeat.
- **kept** (neither set): a front door that keeps the delivery in the inbox
  (``bot/storage/inbox.py``) before acknowledging it claimed the id; the kept row sees
  it through (a dead instance's rows are replayed), so every copy is a repeat. Rows
  recorded before revision 0014 read the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import Column, Index, Table, Text, bindparam, delete, select, update

from bot.storage.leases import LEASE_SECONDS, lease_columns, until
from bot.storage.retention import Pruner, delete_some
from bot.storage.sql import Db, UtcDateTime, atomic, execute, metadata, upsert

# Platforms retry within minutes (Slack for about an hour at most), so a week of
# identities is plenty (SECBOT_KEEP_DELIVERY_IDS); the daily prune deletes older ones.
KEEP = timedelta(days=7)
# How often a copy waiting for a claim held by another instance looks at it again.
LOOK_SECONDS = 0.25

processed_deliveries = Table(
    "processed_deliveries",
    metadata,
    Column("key", Text, primary_key=True),
    Column("seen_at", UtcDateTime, nullable=False),
    *lease_columns(),  # claimed_by, lease_until: while a waiting request's handler runs
    Column("finished_at", UtcDateTime),
    Index("processed_deliveries_seen", "seen_at"),
)
_c = processed_deliveries.c
_CLAIM = upsert(processed_deliveries).on_conflict_do_nothing()
# A claim whose holder stopped renewing it (its process died mid-handler) is taken over.
_TAKE_OVER = (
    update(processed_deliveries)
    .where(
        _c.key == bindparam("k"),
        _c.finished_at.is_(None),
        _c.lease_until.is_not(None),
        _c.lease_until < bindparam("now"),
    )
    .values(claimed_by=bindparam("owner"), lease_until=bindparam("lease_end"))
)
_STATE = select(_c.lease_until, _c.finished_at).where(_c.key == bindparam("k"))
_MINE = (_c.key == bindparam("k")) & (_c.claimed_by == bindparam("owner"))
_FINISH = (
    update(processed_deliveries)
    .where(_MINE, _c.finished_at.is_(None))
    .values(finished_at=bindparam("now"), lease_until=None)
)
_RENEW = (
    update(processed_deliveries)
    .where(_MINE, _c.finished_at.is_(None))
    .values(lease_until=bindparam("lease_end"))
)


class Claim(Enum):
    """What :meth:`DeliveryStore.begin` found."""

    NEW = "new"  # first seen: handle it
    TAKEN_OVER = "taken over"  # claimed by an instance that died mid-handler: handle it
    WORKING = "working"  # a live handler has it: a repeat still being worked on
    REPEAT = "repeat"  # finished, or kept by an inbox that sees it through

    @property
    def handle(self) -> bool:
        return self in (Claim.NEW, Claim.TAKEN_OVER)


class DeliveryStore:
    def __init__(self, db: Db):
        self.db = db
        # Keys this instance's handlers are running now: a copy arriving here waits on
        # the event instead of looking at the database.
        self._running: dict[str, asyncio.Event] = {}

    async def claim(
        self, key: str, now: datetime, *, then: Callable[[], Awaitable[None]] | None = None
    ) -> bool:
        """True the first time ``key`` is seen, False for every repeat: the claim of a
        delivery kept in an inbox, which sees it through (the "kept" state).

        ``then`` runs only for the first, in the same transaction as the claim: two
        copies of one delivery arriving together run it once, and if ``then`` fails the
        claim is undone, so a retry is not taken for a repeat."""
        if then is None:
            return (await execute(self.db, _CLAIM, {"key": key, "seen_at": now})).rowcount == 1
        async with atomic(self.db):
            if (await execute(self.db, _CLAIM, {"key": key, "seen_at": now})).rowcount != 1:
                return False
            await then()
        return True

    async def claim_many(self, keys: list[str], now: datetime) -> set[str]:
        """The keys of ``keys`` seen here for the first time, claimed in one statement
        (the Slack intake claims a batch of kept deliveries at once); the rest are repeats."""
        if not keys:
            return set()
        stmt = (
            upsert(processed_deliveries)
            .values([{"key": k, "seen_at": now} for k in dict.fromkeys(keys)])
            .on_conflict_do_nothing()
            .returning(processed_deliveries.c.key)
        )
        return {r[0] for r in (await execute(self.db, stmt)).all()}

    async def begin(
        self,
        key: str,
        now: datetime,
        owner: str,
        *,
        then: Callable[[], Awaitable[None]] | None = None,
    ) -> Claim:
        """Claim ``key`` for a handler the request waits for (the "claimed" state, held
        by ``owner`` for :data:`LEASE_SECONDS`), or say why not.

        ``then`` (the web chat's echo of a person's message) runs only for a new
        delivery, in the same transaction as its claim: a claim taken over from a dead
        instance was echoed when it was first made."""
        row = {
            "key": key, "seen_at": now, "claimed_by": owner, "lease_until": until(now),
        }  # fmt: skip
        if then is None:
            new = (await execute(self.db, _CLAIM, row)).rowcount == 1
        else:
            async with atomic(self.db):
                new = (await execute(self.db, _CLAIM, row)).rowcount == 1
                if new:
                    await then()
        if new:
            self._running[key] = asyncio.Event()
            return Claim.NEW
        params = {"k": key, "now": now, "owner": owner, "lease_end": until(now)}
        if (await execute(self.db, _TAKE_OVER, params)).rowcount == 1:
            self._running[key] = asyncio.Event()
            return Claim.TAKEN_OVER
        found = (await execute(self.db, _STATE, {"k": key})).first()
        if found is not None and found.lease_until is not None and found.finished_at is None:
            return Claim.WORKING
        return Claim.REPEAT

    async def wait(
        self, key: str, owner: str, now: Callable[[], datetime], seconds: float
    ) -> Claim:
        """For a copy of a delivery still being worked on: wait up to ``seconds`` for the
        handler to finish (a repeat) or its claim to run out (taken over, to handle);
        WORKING if neither happened in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            left = deadline - loop.time()
            running = self._running.get(key)
            if running is not None:  # this instance's own handler: no need to look
                try:
                    await asyncio.wait_for(running.wait(), max(left, 0))
                except TimeoutError:
                    return Claim.WORKING
            elif left <= 0:
                return Claim.WORKING
            else:
                await asyncio.sleep(min(LOOK_SECONDS, left))
            found = await self.begin(key, now(), owner)
            if found is not Claim.WORKING:
                return found

    async def renew(self, key: str, now: datetime, owner: str) -> None:
        """Push out the lease of a claim this instance's handler is still running."""
        await execute(self.db, _RENEW, {"k": key, "owner": owner, "lease_end": until(now)})

    async def finish(self, key: str, now: datetime, owner: str) -> None:
        """The handler is done: every copy from now on is a repeat."""
        try:
            await execute(self.db, _FINISH, {"k": key, "owner": owner, "now": now})
        finally:
            self._done(key)

    async def let_go(self, key: str, now: datetime, owner: str) -> None:
        """The handler failed and nobody was told: end the lease at once, so a retry is
        handled (taken over) rather than taken for a repeat."""
        past = now - timedelta(seconds=LEASE_SECONDS)
        try:
            await execute(self.db, _RENEW, {"k": key, "owner": owner, "lease_end": past})
        finally:
            self._done(key)

    def _done(self, key: str) -> None:
        running = self._running.pop(key, None)
        if running is not None:
            running.set()

    async def seen(self, key: str) -> bool:
        query = select(processed_deliveries.c.key).where(processed_deliveries.c.key == key)
        return (await execute(self.db, query)).first() is not None

    async def prune(self, now: datetime, keep: timedelta = KEEP) -> int:
        """Forget deliveries seen more than ``keep`` ago; returns how many."""
        old = processed_deliveries.c.seen_at < now - keep
        return (await execute(self.db, delete(processed_deliveries).where(old))).rowcount


def pruner(db: Db, keep: timedelta) -> Pruner:
    """For the daily prune (:mod:`bot.storage.retention`): delivery ids older than ``keep``."""

    async def batch(before: datetime, limit: int) -> int:
        old = processed_deliveries.c.seen_at < before
        return await delete_some(db, processed_deliveries, old, limit)

    return Pruner("handled delivery ids", keep, batch)
