"""Which deliveries have been processed, so a retried one has no second effect.

Slack retries events and may deliver the same slash command twice; Teams may
resend an activity. The key is the platform's own identity for the delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Column, Index, Table, Text, delete, select

from bot.storage.sql import DB_ERRORS, Db, UtcDateTime, atomic, execute, metadata, upsert

if TYPE_CHECKING:
    from bot.core.clock import Clock

log = logging.getLogger(__name__)

# Platforms retry within minutes (Slack for about an hour at most), so a week of
# identities is plenty; pruning once a day keeps the table from growing forever.
KEEP = timedelta(days=7)
PRUNE_EVERY_SECONDS = 24 * 60 * 60

processed_deliveries = Table(
    "processed_deliveries",
    metadata,
    Column("key", Text, primary_key=True),
    Column("seen_at", UtcDateTime, nullable=False),
    Index("processed_deliveries_seen", "seen_at"),
)
_CLAIM = upsert(processed_deliveries).on_conflict_do_nothing()


class DeliveryStore:
    def __init__(self, db: Db):
        self.db = db

    async def claim(
        self, key: str, now: datetime, *, then: Callable[[], Awaitable[None]] | None = None
    ) -> bool:
        """True the first time ``key`` is seen, False for every repeat.

        ``then`` (the web chat's echo of a person's message) runs only for the first,
        in the same transaction as the claim: two copies of one delivery arriving
        together echo once, and if ``then`` fails the claim is undone, so a retry is
        not taken for a repeat."""
        if then is None:
            return (await execute(self.db, _CLAIM, {"key": key, "seen_at": now})).rowcount == 1
        async with atomic(self.db):
            if (await execute(self.db, _CLAIM, {"key": key, "seen_at": now})).rowcount != 1:
                return False
            await then()
        return True

    async def seen(self, key: str) -> bool:
        query = select(processed_deliveries.c.key).where(processed_deliveries.c.key == key)
        return (await execute(self.db, query)).first() is not None

    async def prune(self, now: datetime, keep: timedelta = KEEP) -> int:
        """Forget deliveries seen more than ``keep`` ago; returns how many."""
        old = processed_deliveries.c.seen_at < now - keep
        return (await execute(self.db, delete(processed_deliveries).where(old))).rowcount


async def prune_old(store: DeliveryStore, clock: Clock) -> None:
    """Forget deliveries seen more than a week ago (the app runs this daily, as a
    ``bot.workers`` worker)."""
    try:
        removed = await store.prune(clock.now())
    except DB_ERRORS as e:
        log.warning("could not prune processed deliveries: %s", e)
    else:
        if removed:
            log.info("pruned %d processed deliveries older than %s", removed, KEEP)
