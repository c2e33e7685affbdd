"""Which deliveries have been processed, so a retried one has no second effect.

Slack retries events and may deliver the same slash command twice; Teams may
resend an activity. The key is the platform's own identity for the delivery.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Column, Index, Table, Text, delete, select
from sqlalchemy.dialects.sqlite import insert
from sqlite_utils import Database

from bot.storage.sql import UtcDateTime, metadata, run

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
_CLAIM = insert(processed_deliveries).on_conflict_do_nothing()


class DeliveryStore:
    def __init__(self, db: Database):
        self.db = db

    def claim(self, key: str, now: datetime) -> bool:
        """True the first time ``key`` is seen, False for every repeat."""
        return run(self.db, _CLAIM, {"key": key, "seen_at": now}).rowcount == 1

    def seen(self, key: str) -> bool:
        query = select(processed_deliveries.c.key).where(processed_deliveries.c.key == key)
        return run(self.db, query).first() is not None

    def prune(self, now: datetime, keep: timedelta = KEEP) -> int:
        """Forget deliveries seen more than ``keep`` ago; returns how many."""
        old = processed_deliveries.c.seen_at < now - keep
        return run(self.db, delete(processed_deliveries).where(old)).rowcount


def prune_old(store: DeliveryStore, clock: Clock) -> None:
    """Forget deliveries seen more than a week ago (the app runs this daily, as a
    ``bot.workers`` worker)."""
    try:
        removed = store.prune(clock.now())
    except sqlite3.Error as e:
        log.warning("could not prune processed deliveries: %s", e)
    else:
        if removed:
            log.info("pruned %d processed deliveries older than %s", removed, KEEP)
