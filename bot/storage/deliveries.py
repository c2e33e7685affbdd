"""Which deliveries have been processed, so a retried one has no second effect.

Slack retries events and may deliver the same slash command twice; Teams may
resend an activity. The key is the platform's own identity for the delivery.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

DOMAIN = "core.deliveries"
MIGRATIONS = [
    """
    CREATE TABLE processed_deliveries (
        key TEXT PRIMARY KEY,
        seen_at TEXT NOT NULL
    );
    CREATE INDEX processed_deliveries_seen ON processed_deliveries (seen_at)
    """
]


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

    def prune(self, now: datetime, keep: timedelta = timedelta(days=7)) -> int:
        cur = self.db.execute(
            "DELETE FROM processed_deliveries WHERE seen_at < ?", [(now - keep).isoformat()]
        )
        return cur.rowcount
