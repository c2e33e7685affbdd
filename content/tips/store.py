"""All SQL for daily tips: subscriptions, the delivery ledger, rotation and votes.

The ledger is what makes delivery exactly-once per channel per scheduled day: a row is
*claimed* (``pending``) before anything is sent, under ``UNIQUE(subscription_id,
local_date)``, then moved to ``sending`` right before the platform call and to ``sent``
right after. See ``content/tips/delivery.py`` for how a restart treats each status.

Times are stored as fixed-width UTC strings (``2026-03-30T08:30:00.000000Z``) so that
comparing them as text compares them as instants.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlite_utils import Database

from bot.core.model import Place
from bot.storage.db import transaction
from content.tips.schedule import Schedule, decode_days, encode_days, parse_time

DOMAIN = "tips"
MIGRATIONS = [
    """
    CREATE TABLE tip_subscriptions (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        is_direct INTEGER NOT NULL DEFAULT 0,
        thread TEXT,
        local_time TEXT NOT NULL,
        days TEXT NOT NULL,
        nation TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        inactive_reason TEXT,
        cycle INTEGER NOT NULL DEFAULT 1,
        next_local_date TEXT,
        next_due TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (platform, workspace, channel)
    );
    CREATE INDEX tip_subscriptions_due ON tip_subscriptions (active, next_due);
    CREATE TABLE tip_deliveries (
        id INTEGER PRIMARY KEY,
        subscription_id INTEGER NOT NULL REFERENCES tip_subscriptions (id),
        local_date TEXT,
        test_slot INTEGER,
        kind TEXT NOT NULL,
        tip_id TEXT NOT NULL,
        cycle INTEGER NOT NULL,
        status TEXT NOT NULL,
        due_at TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        retry_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        message_id TEXT,
        error TEXT,
        UNIQUE (subscription_id, local_date),
        UNIQUE (subscription_id, test_slot)
    );
    CREATE INDEX tip_deliveries_status ON tip_deliveries (status, retry_at);
    CREATE TABLE tip_rotation (
        subscription_id INTEGER NOT NULL REFERENCES tip_subscriptions (id),
        cycle INTEGER NOT NULL,
        tip_id TEXT NOT NULL,
        served_at TEXT NOT NULL,
        PRIMARY KEY (subscription_id, cycle, tip_id)
    );
    CREATE TABLE tip_votes (
        tip_id TEXT NOT NULL,
        place TEXT NOT NULL,
        voter TEXT NOT NULL,
        vote TEXT NOT NULL CHECK (vote IN ('useful', 'not-useful')),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tip_id, place, voter)
    )
    """,
    # A fan-out reads the pending rows in due order: the index serves the filter and the
    # order, so a day's 10,000 claimed rows need no sort and old sent rows are never read.
    """
    CREATE INDEX tip_deliveries_due ON tip_deliveries (status, due_at, id)
    """,
    # Only `pending` and `sending` rows are ever looked up by status. Partial indexes keep
    # the (ever-growing) history of sent rows out of them, and a row's move from `sending`
    # to `sent` then touches no index at all: half the index writes of a fan-out.
    """
    DROP INDEX tip_deliveries_status;
    DROP INDEX tip_deliveries_due;
    CREATE INDEX tip_deliveries_pending ON tip_deliveries (status, due_at, id)
        WHERE status = 'pending';
    CREATE INDEX tip_deliveries_sending ON tip_deliveries (status, id) WHERE status = 'sending'
    """,
    # The chat delivery (a `/tip send-now`) that claimed a row, so a replay of it after a
    # crash finds the row (and finishes or reports it) rather than claiming a second tip.
    # Partial: scheduled rows, the fan-out's thousands, carry no key and cost no index write.
    """
    ALTER TABLE tip_deliveries ADD COLUMN request_key TEXT;
    CREATE UNIQUE INDEX tip_deliveries_request ON tip_deliveries (request_key)
        WHERE request_key IS NOT NULL
    """,
    # The chat delivery (a `/tip subscribe`) that last set a subscription, so a replay of
    # it after a crash sees its change made and does not announce it in the channel again.
    """
    ALTER TABLE tip_subscriptions ADD COLUMN delivery_key TEXT
    """,
]

# Rows per statement in the *_many methods (well under SQLite's bound-parameter limit).
MANY = 500

# Ledger statuses. `pending` and `sending` are the only non-final ones.
PENDING, SENDING, SENT = "pending", "sending", "sent"
FAILED, GONE, UNKNOWN, MISSED, CANCELLED = "failed", "gone", "unknown", "missed", "cancelled"


def ts(when: datetime) -> str:
    # isoformat is several times faster than strftime and gives the same fixed width
    # ("2026-03-30T08:30:00.000000+00:00" before the offset is swapped for "Z").
    return when.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_ts(text: str | None) -> datetime | None:
    if not text:
        return None
    # fromisoformat reads the trailing Z (Python 3.11+) and is ~20x faster than strptime,
    # which matters when a fan-out reads thousands of rows.
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Subscription:
    id: int
    place: Place
    schedule: Schedule
    active: bool
    inactive_reason: str | None
    cycle: int
    next_local_date: date | None
    next_due: datetime | None
    created_by: str


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    subscription_id: int
    local_date: date | None
    kind: str
    tip_id: str
    cycle: int
    status: str
    due_at: datetime
    attempts: int
    # Filled in by ``ready()`` (one join instead of a query per row during a fan-out).
    place: Place | None = None
    active: bool | None = None  # the subscription's, when ready() read the row


_SUB_COLUMNS = (
    "id, platform, workspace, channel, is_direct, thread, local_time, days, nation, active,"
    " inactive_reason, cycle, next_local_date, next_due, created_by"
)
_DELIVERY_COLUMNS = "id, subscription_id, local_date, kind, tip_id, cycle, status, due_at, attempts"


def _sub(row) -> Subscription:
    return Subscription(
        id=row[0],
        place=Place(row[1], row[2], row[3], is_direct=bool(row[4]), thread=row[5]),
        schedule=Schedule(at=parse_time(row[6]), days=decode_days(row[7]), nation=row[8]),
        active=bool(row[9]),
        inactive_reason=row[10],
        cycle=row[11],
        next_local_date=date.fromisoformat(row[12]) if row[12] else None,
        next_due=parse_ts(row[13]),
        created_by=row[14],
    )


def _delivery(row) -> Delivery:
    return Delivery(
        id=row[0],
        subscription_id=row[1],
        local_date=date.fromisoformat(row[2]) if row[2] else None,
        kind=row[3],
        tip_id=row[4],
        cycle=row[5],
        status=row[6],
        due_at=parse_ts(row[7]),  # type: ignore[arg-type]
        attempts=row[8],
        place=(
            Place(row[9], row[10], row[11], is_direct=bool(row[12]), thread=row[13])
            if len(row) > 9
            else None
        ),
        active=bool(row[14]) if len(row) > 14 else None,
    )


class TipStore:
    def __init__(self, db: Database):
        self.db = db

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction around many store calls (a page of claims, a page of
        reschedules), so a fan-out commits once per page rather than once per channel.
        Store methods called inside it join it instead of opening their own."""
        if self.db.conn.in_transaction:
            yield
            return
        with transaction(self.db):
            yield

    # --- subscriptions --------------------------------------------------------------

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
            f"SELECT {_SUB_COLUMNS} FROM tip_subscriptions"
            " WHERE platform = ? AND workspace = ? AND channel = ?",
            [place.platform, place.workspace, place.channel],
        ).fetchone()
        return _sub(row) if row else None

    def get(self, sub_id: int) -> Subscription | None:
        row = self.db.execute(
            f"SELECT {_SUB_COLUMNS} FROM tip_subscriptions WHERE id = ?", [sub_id]
        ).fetchone()
        return _sub(row) if row else None

    def all(self, limit: int | None = None) -> list[Subscription]:
        rows = self.db.execute(
            f"SELECT {_SUB_COLUMNS} FROM tip_subscriptions ORDER BY active DESC, platform,"
            " workspace, channel LIMIT ?",
            [-1 if limit is None else limit],
        ).fetchall()
        return [_sub(r) for r in rows]

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
            f"SELECT {_SUB_COLUMNS} FROM tip_subscriptions WHERE id > ? AND +active = 1"
            " ORDER BY id LIMIT ?",
            [after_id, -1 if limit is None else limit],
        ).fetchall()
        return [_sub(r) for r in rows]

    def due(self, now: datetime, limit: int | None = None) -> list[Subscription]:
        rows = self.db.execute(
            f"SELECT {_SUB_COLUMNS} FROM tip_subscriptions"
            " WHERE active = 1 AND next_due IS NOT NULL AND next_due <= ? ORDER BY next_due, id"
            " LIMIT ?",
            [ts(now), -1 if limit is None else limit],
        ).fetchall()
        return [_sub(r) for r in rows]

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

    # --- rotation ---------------------------------------------------------------------

    def served(self, sub_id: int, cycle: int) -> set[str]:
        rows = self.db.execute(
            "SELECT tip_id FROM tip_rotation WHERE subscription_id = ? AND cycle = ?",
            [sub_id, cycle],
        ).fetchall()
        return {r[0] for r in rows}

    # --- the ledger -------------------------------------------------------------------

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
        with self.batch():
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
            delivery_id = int(cur.lastrowid)
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
        columns = ", ".join(f"d.{c.strip()}" for c in _DELIVERY_COLUMNS.split(","))
        rows = self.db.execute(
            f"SELECT {columns}, s.platform, s.workspace, s.channel, s.is_direct, s.thread,"
            " s.active FROM tip_deliveries d JOIN tip_subscriptions s ON s.id = d.subscription_id"
            " WHERE d.status = ? AND (d.retry_at IS NULL OR d.retry_at <= ?)"
            " ORDER BY d.due_at, d.id",
            [PENDING, ts(now)],
        ).fetchall()
        return [_delivery(r) for r in rows]

    def earliest_retry(self) -> datetime | None:
        row = self.db.execute(
            "SELECT MIN(COALESCE(retry_at, due_at)) FROM tip_deliveries WHERE status = ?",
            [PENDING],
        ).fetchone()
        return parse_ts(row[0])

    def get_delivery(self, delivery_id: int) -> Delivery | None:
        row = self.db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM tip_deliveries WHERE id = ?", [delivery_id]
        ).fetchone()
        return _delivery(row) if row else None

    def delivery_for_request(self, request_key: str) -> Delivery | None:
        """The ledger row a chat delivery (``/tip send-now``) claimed, if it claimed one."""
        row = self.db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM tip_deliveries WHERE request_key = ?",
            [request_key],
        ).fetchone()
        return _delivery(row) if row else None

    def deliveries(self, sub_id: int | None = None) -> list[Delivery]:
        where, params = ("WHERE subscription_id = ?", [sub_id]) if sub_id is not None else ("", [])
        rows = self.db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM tip_deliveries {where} ORDER BY id", params
        ).fetchall()
        return [_delivery(r) for r in rows]

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
        with self.batch():
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
            f"SELECT {_DELIVERY_COLUMNS} FROM tip_deliveries WHERE status = ? ORDER BY id",
            [SENDING],
        ).fetchall()
        return [_delivery(r) for r in rows]

    # --- feedback ---------------------------------------------------------------------

    def vote(self, tip_id: str, place: str, voter: str, vote: str, now: datetime) -> str | None:
        """Record (or change) one person's vote on a tip in a channel; returns the old one."""
        row = self.db.execute(
            "SELECT vote FROM tip_votes WHERE tip_id = ? AND place = ? AND voter = ?",
            [tip_id, place, voter],
        ).fetchone()
        self.db.execute(
            "INSERT INTO tip_votes (tip_id, place, voter, vote, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (tip_id, place, voter) DO UPDATE SET vote = excluded.vote,"
            " updated_at = excluded.updated_at",
            [tip_id, place, voter, vote, ts(now)],
        )
        return row[0] if row else None

    def feedback(self) -> dict[str, tuple[int, int]]:
        rows = self.db.execute(
            "SELECT tip_id, SUM(vote = 'useful'), SUM(vote = 'not-useful') FROM tip_votes"
            " GROUP BY tip_id"
        ).fetchall()
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    def votes(self, tip_id: str) -> list[tuple[str, str, str]]:
        rows = self.db.execute(
            "SELECT place, voter, vote FROM tip_votes WHERE tip_id = ? ORDER BY place, voter",
            [tip_id],
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]
