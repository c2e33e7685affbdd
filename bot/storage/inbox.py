"""Deliveries acknowledged but not yet handled, kept so a crash cannot lose them.

Slack gets its acknowledgement before the work is done (it allows three seconds).
The delivery is written here first and removed once handled; whatever is still here
at start-up was acknowledged by a process that died, and is handled then.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlite_utils import Database

DOMAIN = "core.inbox"
MIGRATIONS = [
    """
    CREATE TABLE inbox (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL
    )
    """
]


class Inbox:
    def __init__(self, db: Database):
        self.db = db

    def add(self, source: str, kind: str, payload: dict, now: datetime) -> int:
        cur = self.db.execute(
            "INSERT INTO inbox (source, kind, payload, received_at) VALUES (?, ?, ?, ?)",
            [source, kind, json.dumps(payload), now.isoformat()],
        )
        return int(cur.lastrowid)

    def remove(self, entry_id: int) -> None:
        self.db.execute("DELETE FROM inbox WHERE id = ?", [entry_id])

    def pending(self, source: str) -> list[tuple[int, str, dict]]:
        rows = self.db.execute(
            "SELECT id, kind, payload FROM inbox WHERE source = ? ORDER BY id", [source]
        ).fetchall()
        return [(int(r[0]), r[1], json.loads(r[2])) for r in rows]
