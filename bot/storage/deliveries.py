"""Which deliveries have been processed, so a retried one has no second effect.

Slack retries events and may deliver the same slash command twice; Teams may
resend an activity. The key is the platform's own identity for the delivery.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import Column, Index, Table, Text, delete, select

from bot.storage.retention import Pruner, delete_some
from bot.storage.sql import Db, UtcDateTime, atomic, execute, metadata, upsert

# Platforms retry within minutes (Slack for about an hour at most), so a week of
# identities is plenty (SECBOT_KEEP_DELIVERY_IDS); the daily prune deletes older ones.
KEEP = timedelta(days=7)

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


def pruner(db: Db, keep: timedelta) -> Pruner:
    """For the daily prune (:mod:`bot.storage.retention`): delivery ids older than ``keep``."""

    async def batch(before: datetime, limit: int) -> int:
        old = processed_deliveries.c.seen_at < before
        return await delete_some(db, processed_deliveries, old, limit)

    return Pruner("handled delivery ids", keep, batch)
