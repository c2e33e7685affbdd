"""Deliveries acknowledged but not yet handled, kept so a crash cannot lose them.

Slack gets its acknowledgement before the work is done (it allows three seconds).
The delivery is written here first and removed once handled; whatever is still here
at start-up was acknowledged by a process that died, and is handled then.

Two shapes of row: ``http`` rows hold the verified request body exactly as Slack sent
it (the front door keeps it before anything parses it, so even a body our code cannot
read is kept, not lost); the other kinds (``command``, ``action``, ``view``, ``event``)
hold a parsed payload, as Socket Mode delivers it.
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
    """,
    # The consumer reads rows newer than the last it took, so ids must never be reused
    # (a plain INTEGER PRIMARY KEY hands out the same id again once the table is empty).
    """
    CREATE TABLE inbox_v2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    INSERT INTO inbox_v2 (id, source, kind, payload, received_at)
        SELECT id, source, kind, payload, received_at FROM inbox;
    DROP TABLE inbox;
    ALTER TABLE inbox_v2 RENAME TO inbox;
    CREATE INDEX inbox_source ON inbox (source, id)
    """,
]

RAW = "http"


class Inbox:
    def __init__(self, db: Database):
        self.db = db
        self._conn = db.conn

    def add(self, source: str, kind: str, payload: dict, now: datetime) -> int:
        return self.add_raw(source, kind, json.dumps(payload), now)

    def add_raw(self, source: str, kind: str, payload: str, now: datetime) -> int:
        """Keep a delivery as text; one short autocommit INSERT on the acknowledging path."""
        cur = self._conn.execute(
            "INSERT INTO inbox (source, kind, payload, received_at) VALUES (?, ?, ?, ?)",
            (source, kind, payload, now.isoformat()),
        )
        return int(cur.lastrowid or 0)

    def insert_many(self, source: str, kind: str, rows: list[tuple[str, datetime]]) -> None:
        """Keep several deliveries, inside the caller's transaction (one commit for all)."""
        self._conn.executemany(
            "INSERT INTO inbox (source, kind, payload, received_at) VALUES (?, ?, ?, ?)",
            [(source, kind, payload, now.isoformat()) for payload, now in rows],
        )

    def remove(self, entry_id: int) -> None:
        self._conn.execute("DELETE FROM inbox WHERE id = ?", (entry_id,))

    def after(self, source: str, after_id: int, limit: int) -> list[tuple[int, str, str, str]]:
        """Up to ``limit`` kept rows newer than ``after_id``, oldest first: (id, kind,
        payload as text, received_at)."""
        rows = self._conn.execute(
            "SELECT id, kind, payload, received_at FROM inbox"
            " WHERE source = ? AND id > ? ORDER BY id LIMIT ?",
            (source, after_id, limit),
        ).fetchall()
        return [(int(r[0]), r[1], r[2], r[3]) for r in rows]

    def last_id(self, source: str) -> int:
        row = self._conn.execute("SELECT max(id) FROM inbox WHERE source = ?", (source,))
        return int(row.fetchone()[0] or 0)

    def pending(self, source: str) -> list[tuple[int, str, dict | str]]:
        """Every kept row: parsed payloads as dicts, ``http`` bodies as text."""
        return [
            (entry, kind, payload if kind == RAW else json.loads(payload))
            for entry, kind, payload, _ in self.after(source, 0, -1)
        ]
