"""Which deliveries have been processed, so a retried one has no second effect.

Slack retries events and may deliver the same slash command twice; Teams may
resend an activity. The key is the platform's own identity for the delivery.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlite_utils import Database

if TYPE_CHECKING:
    from bot.core.clock import Clock

log = logging.getLogger(__name__)

# Platforms retry within minutes (Slack for about an hour at most), so a week of
# identities is plenty; pruning once a day keeps the table from growing forever.
KEEP = timedelta(days=7)
PRUNE_EVERY_SECONDS = 24 * 60 * 60

# The schema is Alembic's: bot/storage/migrations/ (this domain's steps from before are
# frozen in bot/storage/migrations/legacy.py; a change is a new revision).


class DeliveryStore:
    def __init__(self, db: Database):
        self.db = db

    def claim(self, key: str, now: datetime) -> bool:
        """True the first time ``key`` is seen, False for every repeat."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO processed_deliveries (key, seen_at) VALUES (?, ?)",
            [key, now.isoformat()],
        )
        return cur.rowcount == 1

    def seen(self, key: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM processed_deliveries WHERE key = ?", [key]).fetchone()
            is not None
        )

    def prune(self, now: datetime, keep: timedelta = KEEP) -> int:
        """Forget deliveries seen more than ``keep`` ago; returns how many."""
        cur = self.db.execute(
            "DELETE FROM processed_deliveries WHERE seen_at < ?", [(now - keep).isoformat()]
        )
        return cur.rowcount


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
