"""The delivery ledger and each channel's rotation: what was claimed, sent or given up.

The ledger is what makes delivery exactly-once per channel per scheduled day: a row is
*claimed* (``pending``) before anything is sent, under ``UNIQUE(subscription_id,
local_date)``, then moved to ``sending`` right before the platform call and to ``sent``
right after. See ``content/tips/delivery.py`` for how a restart treats each status.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlite_utils import Database

from content.tips.store.records import (
    DELIVERY_COLUMNS,
    PENDING,
    SENDING,
    SENT,
    UNKNOWN,
    Delivery,
    batch,
    delivery_from_row,
    parse_ts,
    ts,
)

# Rows per statement in the *_many methods (well under SQLite's bound-parameter limit).
MANY = 500


class Ledger:
    def __init__(self, db: Database):
        self.db = db

    def served(self, sub_id: int, cycle: int) -> set[str]:
        rows = self.db.execute(
            "SELECT tip_id FROM tip_rotation WHERE subscription_id = ? AND cycle = ?",
            [sub_id, cycle],
        ).fetchall()
        return {r[0] for r in rows}

    def has_delivery(self, sub_id: int, local_date: date) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM tip_deliveries WHERE subscription_id = ? AND local_date = ?",
                [sub_id, local_date.isoformat()],
            ).fetchone()
            is not None
        )

    def delivered_on(self, sub_id: int, local_date: date) -> str | None:
        row = self.db.execute(
            "SELECT status FROM tip_deliveries WHERE subscription_id = ? AND local_date = ?",
            [sub_id, local_date.isoformat()],
        ).fetchone()
        return row[0] if row else None

    def claim(
        self,
        sub_id: int,
        *,
        kind: str,
        tip_id: str,
        cycle: int,
        due: datetime,
        now: datetime,
        local_date: date | None = None,
        test_slot: int | None = None,
        request_key: str | None = None,
    ) -> int | None:
        """Insert a ``pending`` ledger row and mark the tip served in ``cycle``, atomically.

        None if the (subscription, local date), (subscription, test slot) or request key
        is taken.
        """
        with batch(self.db):
            conn = self.db.conn
            cur = conn.execute(
                "INSERT OR IGNORE INTO tip_deliveries (subscription_id, local_date, test_slot,"
                " kind, tip_id, cycle, status, due_at, claimed_at, updated_at, request_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    sub_id,
                    local_date.isoformat() if local_date else None,
                    test_slot,
                    kind,
                    tip_id,
                    cycle,
                    PENDING,
                    ts(due),
                    ts(now),
                    ts(now),
                    request_key,
                ],
            )
            if cur.rowcount != 1:
                return None
            delivery_id = cur.lastrowid
            assert delivery_id is not None  # one row was inserted
            conn.execute(
                "INSERT OR IGNORE INTO tip_rotation (subscription_id, cycle, tip_id, served_at)"
                " VALUES (?, ?, ?, ?)",
                [sub_id, cycle, tip_id, ts(now)],
            )
            conn.execute(
                "UPDATE tip_subscriptions SET cycle = ? WHERE id = ? AND cycle < ?",
                [cycle, sub_id, cycle],
            )
        return delivery_id

    def ready(self, now: datetime) -> list[Delivery]:
        """Pending rows whose retry time (if any) has come, oldest first, each with the
        place to post to."""
        columns = ", ".join(f"d.{c.strip()}" for c in DELIVERY_COLUMNS.split(","))
        rows = self.db.execute(
            f"SELECT {columns}, s.platform, s.workspace, s.channel, s.is_direct, s.thread,"
            " s.active FROM tip_deliveries d JOIN tip_subscriptions s ON s.id = d.subscription_id"
            " WHERE d.status = ? AND (d.retry_at IS NULL OR d.retry_at <= ?)"
            " ORDER BY d.due_at, d.id",
            [PENDING, ts(now)],
        ).fetchall()
        return [delivery_from_row(r) for r in rows]

    def earliest_retry(self) -> datetime | None:
        row = self.db.execute(
            "SELECT MIN(COALESCE(retry_at, due_at)) FROM tip_deliveries WHERE status = ?",
            [PENDING],
        ).fetchone()
        return parse_ts(row[0])

    def get_delivery(self, delivery_id: int) -> Delivery | None:
        row = self.db.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM tip_deliveries WHERE id = ?", [delivery_id]
        ).fetchone()
        return delivery_from_row(row) if row else None

    def delivery_for_request(self, request_key: str) -> Delivery | None:
        """The ledger row a chat delivery (``/tip send-now``) claimed, if it claimed one."""
        row = self.db.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM tip_deliveries WHERE request_key = ?",
            [request_key],
        ).fetchone()
        return delivery_from_row(row) if row else None

    def deliveries(self, sub_id: int | None = None) -> list[Delivery]:
        where, params = ("WHERE subscription_id = ?", [sub_id]) if sub_id is not None else ("", [])
        rows = self.db.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM tip_deliveries {where} ORDER BY id", params
        ).fetchall()
        return [delivery_from_row(r) for r in rows]

    def mark_sending(self, delivery_id: int, now: datetime) -> bool:
        """pending -> sending; False if another worker took it (or it was cancelled)."""
        cur = self.db.execute(
            "UPDATE tip_deliveries SET status = ?, attempts = attempts + 1, updated_at = ?"
            " WHERE id = ? AND status = ?",
            [SENDING, ts(now), delivery_id, PENDING],
        )
        return cur.rowcount == 1

    def mark_sending_many(self, delivery_ids: list[int], now: datetime) -> set[int]:
        """``mark_sending`` for many rows at once, each only if its subscription is still
        active; returns the ids that moved to ``sending``.

        ``+status`` keeps SQLite on the primary key: otherwise it may walk the status
        index through every pending row of the fan-out to find a handful of ids."""
        taken: set[int] = set()
        stamp = ts(now)
        for start in range(0, len(delivery_ids), MANY):
            chunk = delivery_ids[start : start + MANY]
            rows = self.db.execute(
                "UPDATE tip_deliveries SET status = ?, attempts = attempts + 1, updated_at = ?"
                f" WHERE id IN ({', '.join('?' * len(chunk))}) AND +status = ? AND EXISTS"
                " (SELECT 1 FROM tip_subscriptions s"
                " WHERE s.id = tip_deliveries.subscription_id AND s.active = 1)"
                " RETURNING id",
                [SENDING, stamp, *chunk, PENDING],
            ).fetchall()
            taken.update(r[0] for r in rows)
        return taken

    def mark_sent_many(self, sent: list[tuple[int, str | None]], now: datetime) -> None:
        """``mark_sent`` for many rows: (delivery id, message id) pairs."""
        stamp = ts(now)
        self.db.conn.executemany(
            "UPDATE tip_deliveries SET status = ?, message_id = ?, error = NULL, updated_at = ?"
            " WHERE id = ?",
            [(SENT, message_id, stamp, delivery_id) for delivery_id, message_id in sent],
        )

    def mark_sent(self, delivery_id: int, message_id: str | None, now: datetime) -> None:
        self.db.execute(
            "UPDATE tip_deliveries SET status = ?, message_id = ?, error = NULL, updated_at = ?"
            " WHERE id = ?",
            [SENT, message_id, ts(now), delivery_id],
        )

    def retry_later(
        self, delivery_id: int, retry_at: datetime, error: str | None, now: datetime
    ) -> None:
        """Back to pending: the platform refused it, so it was certainly not delivered."""
        self.db.execute(
            "UPDATE tip_deliveries SET status = ?, retry_at = ?, error = ?, updated_at = ?"
            " WHERE id = ?",
            [PENDING, ts(retry_at), error, ts(now), delivery_id],
        )

    def finish(self, delivery_id: int, status: str, error: str | None, now: datetime) -> None:
        """A final status other than sent: failed, gone, unknown, missed or cancelled.

        The tip goes back into the rotation unless it may have been seen (unknown)."""
        with batch(self.db):
            conn = self.db.conn
            conn.execute(
                "UPDATE tip_deliveries SET status = ?, error = ?, updated_at = ? WHERE id = ?",
                [status, error, ts(now), delivery_id],
            )
            if status != UNKNOWN:
                conn.execute(
                    "DELETE FROM tip_rotation WHERE (subscription_id, cycle, tip_id) IN"
                    " (SELECT subscription_id, cycle, tip_id FROM tip_deliveries WHERE id = ?)",
                    [delivery_id],
                )

    def interrupted(self) -> list[Delivery]:
        rows = self.db.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM tip_deliveries WHERE status = ? ORDER BY id",
            [SENDING],
        ).fetchall()
        return [delivery_from_row(r) for r in rows]
