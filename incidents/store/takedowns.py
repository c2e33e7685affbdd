"""Fake accounts reported for takedown in an impersonation incident
(``incident_takedowns``): one row per fake account (its URL, UNIQUE per incident),
its status, the platform's reference, and the one reminder to chase it.

The reminder is durable: ``chase_at`` is when it is due and ``chased_at`` when it was
sent. :meth:`Takedowns.claim_due` takes a due reminder with ``UPDATE … WHERE chased_at
IS NULL``, so it is sent once, even with two processes or after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Date,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    select,
    update,
)

from bot.storage.sql import UtcDateTime, atomic, execute, metadata, upsert

if TYPE_CHECKING:
    from bot.storage.sql import Db

incident_takedowns = Table(
    "incident_takedowns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Text, nullable=False),
    Column("platform", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("reported_on", Date, nullable=False),
    Column("reference", Text),  # the platform's reference number, once given
    Column("status", Text, nullable=False),  # reported | review | removed | refused
    Column("added_by", Text, nullable=False),
    Column("added_by_name", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("chase_at", UtcDateTime),  # the reminder to chase; None once settled
    Column("chased_at", UtcDateTime),  # when that reminder went out
    UniqueConstraint("incident_id", "url"),
    Index("incident_takedowns_chase", "chase_at"),
)

# The statuses, in order; the last two settle it.
REPORTED, REVIEW, REMOVED, REFUSED = "reported", "review", "removed", "refused"
STATUSES = (REPORTED, REVIEW, REMOVED, REFUSED)
SETTLED = (REMOVED, REFUSED)


@dataclass(frozen=True)
class Takedown:
    id: int
    incident_id: str
    platform: str
    url: str
    reported_on: date
    reference: str | None
    status: str
    added_by: str
    added_by_name: str
    created_at: datetime
    updated_at: datetime
    chase_at: datetime | None
    chased_at: datetime | None


def _takedown(row) -> Takedown:
    return Takedown(**dict(row._mapping))


class Takedowns:
    def __init__(self, db: Db):
        self.db = db

    async def add(
        self,
        incident_id: str,
        *,
        platform: str,
        url: str,
        reported_on: date,
        reference: str | None,
        by_key: str,
        by_name: str,
        now: datetime,
        chase_at: datetime,
    ) -> tuple[Takedown, bool]:
        """A fake account to track; (it, True) when new. The same URL again gives the
        one already tracked (a double click, a retried delivery), with a reference now
        given filled in."""
        t = incident_takedowns.c
        async with atomic(self.db):
            made = await execute(
                self.db,
                upsert(incident_takedowns)
                .values(
                    incident_id=incident_id,
                    platform=platform,
                    url=url,
                    reported_on=reported_on,
                    reference=reference,
                    status=REPORTED,
                    added_by=by_key,
                    added_by_name=by_name,
                    created_at=now,
                    updated_at=now,
                    chase_at=chase_at,
                )  # fmt: skip
                .on_conflict_do_nothing(),
            )
            if made.rowcount != 1 and reference:
                await execute(
                    self.db,
                    update(incident_takedowns)
                    .where(t.incident_id == incident_id, t.url == url, t.reference.is_(None))
                    .values(reference=reference, updated_at=now),
                )
            row = (
                await execute(
                    self.db,
                    select(incident_takedowns).where(t.incident_id == incident_id, t.url == url),
                )
            ).one()
        return _takedown(row), made.rowcount == 1

    async def get(self, takedown_id: int) -> Takedown | None:
        row = (
            await execute(
                self.db,
                select(incident_takedowns).where(incident_takedowns.c.id == takedown_id),
            )
        ).first()
        return _takedown(row) if row else None

    async def of(self, incident_id: str) -> list[Takedown]:
        t = incident_takedowns.c
        rows = await execute(
            self.db, select(incident_takedowns).where(t.incident_id == incident_id).order_by(t.id)
        )
        return [_takedown(r) for r in rows.all()]

    async def set_status(
        self, takedown_id: int, status: str, now: datetime, chase_at: datetime | None
    ) -> bool:
        """Move to ``status`` (False when it is there already, or settled); a new
        reminder is due at ``chase_at`` (None when settled)."""
        t = incident_takedowns.c
        changed = await execute(
            self.db,
            update(incident_takedowns)
            .where(t.id == takedown_id, t.status != status, t.status.not_in(SETTLED))
            .values(status=status, updated_at=now, chase_at=chase_at, chased_at=None),
        )
        return changed.rowcount == 1

    async def set_reference(self, takedown_id: int, reference: str, now: datetime) -> bool:
        t = incident_takedowns.c
        changed = await execute(
            self.db,
            update(incident_takedowns)
            .where(t.id == takedown_id, t.reference.is_distinct_from(reference))
            .values(reference=reference, updated_at=now),
        )
        return changed.rowcount == 1

    async def due(self, now: datetime) -> list[Takedown]:
        """Reminders due and not sent yet, oldest first."""
        t = incident_takedowns.c
        rows = await execute(
            self.db,
            select(incident_takedowns)
            .where(t.chase_at <= now, t.chased_at.is_(None), t.status.not_in(SETTLED))
            .order_by(t.chase_at, t.id),
        )
        return [_takedown(r) for r in rows.all()]

    async def claim(self, takedown: Takedown, now: datetime) -> bool:
        """Take one due reminder to send; False when another process (or an earlier
        round) took it, or the takedown moved on since it was read."""
        t = incident_takedowns.c
        claimed = await execute(
            self.db,
            update(incident_takedowns)
            .where(
                t.id == takedown.id,
                t.chased_at.is_(None),
                t.chase_at == takedown.chase_at,
                t.status.not_in(SETTLED),
            )
            .values(chased_at=now),
        )
        return claimed.rowcount == 1
