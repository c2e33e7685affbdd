"""The page outbox (``paging_outbox``): a page is written here before it is sent,
UNIQUE (incident, step, round, target, action), and retried from here until sent or
given up."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.storage.db import transaction
from incidents.paging.store.rows import PAGE_COLS, NewPage, PageRow, page_from_row, ts


def insert_pages(conn: Any, incident_id: str, pages: Iterable[NewPage], now: datetime) -> int:
    added = 0
    for p in pages:
        cur = conn.execute(
            "INSERT OR IGNORE INTO paging_outbox (incident_id, step, repeat_round,"
            " target_id, action, provider, target, status, attempts, next_attempt_at,"
            " detail, ref, fallback_for, created_at) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
            [
                incident_id,
                p.step,
                p.round,
                p.target_id,
                p.action,
                p.provider,
                json.dumps(p.target),
                p.status,
                ts(now),
                p.detail,
                json.dumps(p.ref) if p.ref is not None else None,
                p.fallback_for,
                ts(now),
            ],
        )
        added += cur.rowcount
    return added


class PageStore:
    """Write, claim and mark pages; only one caller ever claims a page."""

    def __init__(self, db: Database):
        self.db = db

    def add(self, incident_id: str, pages: Iterable[NewPage], now: datetime) -> int:
        """Write pages (ignoring any already written); returns how many were new."""
        with transaction(self.db) as conn:
            return insert_pages(conn, incident_id, pages, now)

    def claim_due(self, now: datetime, limit: int = 50) -> list[PageRow]:
        """Move due pages to 'sending' and count the attempt; only one caller gets each."""
        with transaction(self.db) as conn:
            rows = conn.execute(
                f"SELECT {PAGE_COLS} FROM paging_outbox WHERE status = 'pending'"
                " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                [ts(now), limit],
            ).fetchall()
            ids = [r[0] for r in rows]
            for pid in ids:
                conn.execute(
                    "UPDATE paging_outbox SET status = 'sending', attempts = attempts + 1"
                    " WHERE id = ? AND status = 'pending'",
                    [pid],
                )
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            claimed = conn.execute(
                f"SELECT {PAGE_COLS} FROM paging_outbox WHERE id IN ({marks}) ORDER BY id",
                ids,
            ).fetchall()
        return [page_from_row(r) for r in claimed]

    def mark_sent(
        self, page_id: int, now: datetime, ref: dict | None, detail: str | None = None
    ) -> None:
        self.db.execute(
            "UPDATE paging_outbox SET status = 'sent', sent_at = ?, ref = ?, detail = ?"
            " WHERE id = ?",
            [ts(now), json.dumps(ref) if ref is not None else None, detail, page_id],
        )

    def mark_retry(self, page_id: int, when: datetime, detail: str) -> None:
        self.db.execute(
            "UPDATE paging_outbox SET status = 'pending', next_attempt_at = ?, detail = ?"
            " WHERE id = ? AND status = 'sending'",
            [ts(when), detail, page_id],
        )

    def mark_done(self, page_id: int, status: str, detail: str) -> None:
        """failed, cancelled or skipped: this page will not be sent."""
        self.db.execute(
            "UPDATE paging_outbox SET status = ?, detail = ? WHERE id = ?",
            [status, detail, page_id],
        )

    def recover(self) -> int:
        """At start-up: pages a dead process was sending are due again (at-least-once)."""
        cur = self.db.execute(
            "UPDATE paging_outbox SET status = 'pending' WHERE status = 'sending'"
        )
        return cur.rowcount

    def all(self, incident_id: str) -> list[PageRow]:
        rows = self.db.execute(
            f"SELECT {PAGE_COLS} FROM paging_outbox WHERE incident_id = ? ORDER BY id",
            [incident_id],
        ).fetchall()
        return [page_from_row(r) for r in rows]
