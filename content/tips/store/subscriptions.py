"""Tip subscriptions: one per channel, its schedule and when it is next due."""

from __future__ import annotations

from datetime import date, datetime

from sqlite_utils import Database

from bot.core.model import Place
from content.tips.schedule import Schedule, encode_days
from content.tips.store.records import SUB_COLUMNS, Subscription, parse_ts, sub_from_row, ts


class Subscriptions:
    def __init__(self, db: Database):
        self.db = db

    def subscribe(
        self,
        place: Place,
        schedule: Schedule,
        actor_key: str,
        now: datetime,
        delivery_key: str | None = None,
    ) -> int:
        """Create or re-activate the channel's one subscription; keeps its rotation.
        ``delivery_key`` (the request that set it) is written in the same statement."""
        self.db.execute(
            "INSERT INTO tip_subscriptions (platform, workspace, channel, is_direct, thread,"
            " local_time, days, nation, active, created_by, created_at, updated_at,"
            " delivery_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)"
            " ON CONFLICT (platform, workspace, channel) DO UPDATE SET"
            " is_direct = excluded.is_direct, thread = excluded.thread,"
            " local_time = excluded.local_time, days = excluded.days, nation = excluded.nation,"
            " active = 1, inactive_reason = NULL, created_by = excluded.created_by,"
            " updated_at = excluded.updated_at, delivery_key = excluded.delivery_key",
            [
                place.platform,
                place.workspace,
                place.channel,
                int(place.is_direct),
                place.thread,
                f"{schedule.at:%H:%M}",
                encode_days(schedule.days),
                schedule.nation,
                actor_key,
                ts(now),
                ts(now),
                delivery_key,
            ],
        )
        row = self.db.execute(
            "SELECT id FROM tip_subscriptions WHERE platform = ? AND workspace = ? AND channel = ?",
            [place.platform, place.workspace, place.channel],
        ).fetchone()
        return int(row[0])

    def set_by(self, place: Place, delivery_key: str) -> bool:
        """Whether the channel's subscription was last set by this delivery."""
        row = self.db.execute(
            "SELECT 1 FROM tip_subscriptions WHERE platform = ? AND workspace = ? AND channel = ?"
            " AND delivery_key = ?",
            [place.platform, place.workspace, place.channel, delivery_key],
        ).fetchone()
        return row is not None

    def deactivate(self, sub_id: int, reason: str, now: datetime) -> bool:
        cur = self.db.execute(
            "UPDATE tip_subscriptions SET active = 0, inactive_reason = ?, next_due = NULL,"
            " next_local_date = NULL, updated_at = ? WHERE id = ? AND active = 1",
            [reason, ts(now), sub_id],
        )
        return cur.rowcount == 1

    def find(self, place: Place) -> Subscription | None:
        row = self.db.execute(
            f"SELECT {SUB_COLUMNS} FROM tip_subscriptions"
            " WHERE platform = ? AND workspace = ? AND channel = ?",
            [place.platform, place.workspace, place.channel],
        ).fetchone()
        return sub_from_row(row) if row else None

    def get(self, sub_id: int) -> Subscription | None:
        row = self.db.execute(
            f"SELECT {SUB_COLUMNS} FROM tip_subscriptions WHERE id = ?", [sub_id]
        ).fetchone()
        return sub_from_row(row) if row else None

    def all(self, limit: int | None = None) -> list[Subscription]:
        rows = self.db.execute(
            f"SELECT {SUB_COLUMNS} FROM tip_subscriptions ORDER BY active DESC, platform,"
            " workspace, channel LIMIT ?",
            [-1 if limit is None else limit],
        ).fetchall()
        return [sub_from_row(r) for r in rows]

    def counts(self) -> tuple[int, int]:
        """(active, all) subscriptions."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(active), 0), COUNT(*) FROM tip_subscriptions"
        ).fetchone()
        return int(row[0]), int(row[1])

    def is_active(self, sub_id: int) -> bool:
        row = self.db.execute(
            "SELECT active FROM tip_subscriptions WHERE id = ?", [sub_id]
        ).fetchone()
        return bool(row and row[0])

    def active(self, *, after_id: int = 0, limit: int | None = None) -> list[Subscription]:
        """Active subscriptions in id order; ``after_id``/``limit`` page through them.

        ``+active`` keeps SQLite on the primary key (a range from ``after_id``) instead of
        the (active, next_due) index, which would re-sort every active row for each page."""
        rows = self.db.execute(
            f"SELECT {SUB_COLUMNS} FROM tip_subscriptions WHERE id > ? AND +active = 1"
            " ORDER BY id LIMIT ?",
            [after_id, -1 if limit is None else limit],
        ).fetchall()
        return [sub_from_row(r) for r in rows]

    def due(self, now: datetime, limit: int | None = None) -> list[Subscription]:
        rows = self.db.execute(
            f"SELECT {SUB_COLUMNS} FROM tip_subscriptions"
            " WHERE active = 1 AND next_due IS NOT NULL AND next_due <= ? ORDER BY next_due, id"
            " LIMIT ?",
            [ts(now), -1 if limit is None else limit],
        ).fetchall()
        return [sub_from_row(r) for r in rows]

    def park(self, sub_id: int) -> None:
        """No next delivery until the next start-up reschedules it (after an error)."""
        self.db.execute(
            "UPDATE tip_subscriptions SET next_local_date = NULL, next_due = NULL WHERE id = ?",
            [sub_id],
        )

    def set_next(self, sub_id: int, local_date: date, due: datetime) -> None:
        self.db.execute(
            "UPDATE tip_subscriptions SET next_local_date = ?, next_due = ?"
            " WHERE id = ? AND active = 1",
            [local_date.isoformat(), ts(due), sub_id],
        )

    def earliest_due(self) -> datetime | None:
        row = self.db.execute(
            "SELECT MIN(next_due) FROM tip_subscriptions WHERE active = 1"
        ).fetchone()
        return parse_ts(row[0])

    def count_active(self) -> int:
        return int(
            self.db.execute("SELECT COUNT(*) FROM tip_subscriptions WHERE active = 1").fetchone()[0]
        )
