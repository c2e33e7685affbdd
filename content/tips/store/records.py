"""What the tips tables hold, as Python: timestamps, statuses, the row types and the
one-transaction helper the stores share.

Times are stored as fixed-width UTC strings (``2026-03-30T08:30:00.000000Z``) so that
comparing them as text compares them as instants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.core.model import Place
from bot.storage.sql import Db, atomic
from bot.storage.sql import savepoint as sql_savepoint
from content.tips.schedule import Schedule, decode_days, parse_time
from content.tips.store.tables import tip_deliveries, tip_subscriptions

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


@dataclass(frozen=True, slots=True)
class InDoubt:
    """A ``sending`` row whose poster stopped mid-post, and when it became ``sending``
    (where a search of the channel's history for it starts)."""

    row: Delivery
    since: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    """Who holds the ledger rows a write takes, and until when (``content/tips/lease.py``)."""

    owner: str
    until: datetime


_s, _d = tip_subscriptions.c, tip_deliveries.c
# Rows per statement in the ledger's *_many methods and page reads (well under SQLite's
# bound-parameter limit).
MANY = 500

# What a Subscription and a Delivery are read from, in the order the readers below expect.
SUB_COLUMNS = (
    _s.id,
    _s.platform,
    _s.workspace,
    _s.channel,
    _s.is_direct,
    _s.thread,
    _s.local_time,
    _s.days,
    _s.nation,
    _s.active,
    _s.inactive_reason,
    _s.cycle,
    _s.next_local_date,
    _s.next_due,
    _s.created_by,
)
DELIVERY_COLUMNS = (
    _d.id,
    _d.subscription_id,
    _d.local_date,
    _d.kind,
    _d.tip_id,
    _d.cycle,
    _d.status,
    _d.due_at,
    _d.attempts,
)
# ... and a Delivery with its channel, as ``ready()`` reads it.
PLACED_DELIVERY_COLUMNS = (
    *DELIVERY_COLUMNS,
    _s.platform,
    _s.workspace,
    _s.channel,
    _s.is_direct,
    _s.thread,
    _s.active,
)


def sub_from_row(row) -> Subscription:
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


def delivery_from_row(row) -> Delivery:
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


@asynccontextmanager
async def batch(db: Db) -> AsyncIterator[None]:
    """One transaction around many store calls (a page of claims, a page of
    reschedules), so a fan-out commits once per page rather than once per channel.
    Store methods called inside it join it instead of opening their own."""
    async with atomic(db):
        yield


@asynccontextmanager
async def savepoint(db: Db) -> AsyncIterator[None]:
    """Inside :func:`batch`: the block's writes are undone if it raises, the rest of the
    batch's kept (one channel's bad row must not undo a page of claims)."""
    async with sql_savepoint(db):
        yield
