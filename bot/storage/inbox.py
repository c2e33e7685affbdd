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
from typing import NamedTuple

from sqlite_utils import Database

# The schema is Alembic's: bot/storage/migrations/ (this domain's steps from before are
# frozen in bot/storage/migrations/legacy.py; a change is a new revision).

RAW = "http"


class Kept(NamedTuple):
    id: int
    kind: str
    payload: str  # as text
    received_at: str
    attempts: int
    last_error: str | None = None


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

    def after(self, source: str, after_id: int, limit: int) -> list[Kept]:
        """Up to ``limit`` kept rows newer than ``after_id``, oldest first."""
        rows = self._conn.execute(
            "SELECT id, kind, payload, received_at, attempts, last_error FROM inbox"
            " WHERE source = ? AND id > ? ORDER BY id LIMIT ?",
            (source, after_id, limit),
        ).fetchall()
        return [Kept(int(r[0]), r[1], r[2], r[3], int(r[4]), r[5]) for r in rows]

    def get(self, entry_id: int) -> Kept | None:
        r = self._conn.execute(
            "SELECT id, kind, payload, received_at, attempts, last_error FROM inbox WHERE id = ?",
            (entry_id,),
        ).fetchone()
        return Kept(int(r[0]), r[1], r[2], r[3], int(r[4]), r[5]) if r else None

    def attempted(self, entry_id: int, error: str, *, count: bool, payload: str | None) -> int:
        """Record a failed (or, before a replay, an about-to-start) attempt; returns how many
        attempts the row has had. ``payload`` replaces the body (one with its tokens
        scrubbed: it waits for a later try now, no longer for an answer within seconds)."""
        self._conn.execute(
            "UPDATE inbox SET attempts = attempts + ?, last_error = ?,"
            " payload = coalesce(?, payload) WHERE id = ?",
            (int(count), error, payload, entry_id),
        )
        row = self._conn.execute("SELECT attempts FROM inbox WHERE id = ?", (entry_id,))
        found = row.fetchone()
        return int(found[0]) if found else 0

    def failed_before(self, source: str, before: datetime, up_to: int) -> list[int]:
        """Rows up to id ``up_to`` tried at least once and received before ``before``."""
        rows = self._conn.execute(
            "SELECT id FROM inbox WHERE source = ? AND id <= ? AND attempts > 0"
            " AND received_at < ?",
            (source, up_to, before.isoformat()),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def delete_before(self, source: str, before: datetime, up_to: int, keep: set[int]) -> int:
        """Forget rows up to id ``up_to`` received before ``before`` (the retention
        period), except ``keep``."""
        ids = [
            int(r[0])
            for r in self._conn.execute(
                "SELECT id FROM inbox WHERE source = ? AND id <= ? AND received_at < ?",
                (source, up_to, before.isoformat()),
            ).fetchall()
            if int(r[0]) not in keep
        ]
        self._conn.executemany("DELETE FROM inbox WHERE id = ?", [(i,) for i in ids])
        return len(ids)

    def last_id(self, source: str) -> int:
        row = self._conn.execute("SELECT max(id) FROM inbox WHERE source = ?", (source,))
        return int(row.fetchone()[0] or 0)

    def pending(self, source: str) -> list[tuple[int, str, dict | str]]:
        """Every kept row: parsed payloads as dicts, ``http`` bodies as text."""
        return [
            (k.id, k.kind, k.payload if k.kind == RAW else json.loads(k.payload))
            for k in self.after(source, 0, -1)
        ]
