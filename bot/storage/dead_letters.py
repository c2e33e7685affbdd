"""Deliveries that kept failing, set aside for an admin instead of being tried for ever.

A kept delivery moves here after a bounded number of attempts or once it is old (see
``bot.adapters.slack.intake.SlackIntake``). Each row says, in plain words, when it came, by
which front door, which command or button it was and the class of the last error; the
body it keeps has had its tokens scrubbed. An admin can retry one (it goes back to the
inbox for one more try) or drop it (``/secbot deadletters``). Rows are deleted after the
inbox retention period (``SECBOT_INBOX_RETENTION_DAYS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.storage.db import transaction


@dataclass(frozen=True)
class DeadLetter:
    id: int
    source: str
    kind: str
    what: str
    error: str
    attempts: int
    received_at: datetime
    dead_at: datetime
    payload: str


_COLUMNS = "id, source, kind, what, error, attempts, received_at, dead_at, payload"


def _row(r) -> DeadLetter:
    return DeadLetter(
        id=int(r[0]),
        source=r[1],
        kind=r[2],
        what=r[3],
        error=r[4],
        attempts=int(r[5]),
        received_at=datetime.fromisoformat(r[6]),
        dead_at=datetime.fromisoformat(r[7]),
        payload=r[8],
    )


class DeadLetters:
    def __init__(self, db: Database):
        self.db = db

    def bury(
        self,
        entry_id: int,
        *,
        what: str,
        error: str,
        payload: str,
        now: datetime,
    ) -> int | None:
        """Move inbox row ``entry_id`` here (scrubbed ``payload``), in one transaction.
        None if the row is no longer kept (handled meanwhile)."""
        with transaction(self.db) as conn:
            row = conn.execute(
                "SELECT source, kind, attempts, received_at FROM inbox WHERE id = ?", [entry_id]
            ).fetchone()
            if row is None:
                return None
            cur = conn.execute(
                "INSERT INTO dead_letters (source, kind, what, error, attempts, received_at,"
                " dead_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [row[0], row[1], what, error, row[2], row[3], now.isoformat(), payload],
            )
            conn.execute("DELETE FROM inbox WHERE id = ?", [entry_id])
        return int(cur.lastrowid or 0)

    def list(self, limit: int = 20) -> list[DeadLetter]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM dead_letters ORDER BY id DESC LIMIT ?", [limit]
        ).fetchall()
        return [_row(r) for r in rows]

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM dead_letters").fetchone()[0])

    def get(self, letter_id: int) -> DeadLetter | None:
        r = self.db.execute(
            f"SELECT {_COLUMNS} FROM dead_letters WHERE id = ?", [letter_id]
        ).fetchone()
        return _row(r) if r else None

    def retry(self, letter_id: int) -> int | None:
        """Back to the inbox for one more try; returns the new inbox id, or None if there
        is no such dead letter. It keeps its attempts, so it is handled as a replay (its
        effects may be half done) and comes back here if this try fails too."""
        with transaction(self.db) as conn:
            r = conn.execute(
                "SELECT source, kind, payload, received_at, attempts FROM dead_letters"
                " WHERE id = ?",
                [letter_id],
            ).fetchone()
            if r is None:
                return None
            cur = conn.execute(
                "INSERT INTO inbox (source, kind, payload, received_at, attempts, last_error)"
                " VALUES (?, ?, ?, ?, ?, 'retried by an admin')",
                [r[0], r[1], r[2], r[3], max(int(r[4]), 1)],
            )
            conn.execute("DELETE FROM dead_letters WHERE id = ?", [letter_id])
        return int(cur.lastrowid or 0)

    def drop(self, letter_id: int) -> bool:
        cur = self.db.execute("DELETE FROM dead_letters WHERE id = ?", [letter_id])
        return cur.rowcount == 1

    def prune(self, before: datetime) -> int:
        cur = self.db.execute("DELETE FROM dead_letters WHERE dead_at < ?", [before.isoformat()])
        return cur.rowcount
