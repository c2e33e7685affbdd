"""The incident timers (``incident_timers``) and the ICO clock (``incident_ico``).

A timer is a row with a due time. The worker (``incidents/desk/reminders.py``) *claims*
the due ones with a lease (``bot/storage/leases.py``: one UPDATE … RETURNING that takes
only timers nobody holds or whose holder's lease ran out), acts, then marks each fired.
So a timer fires once while instances share the database, and one whose claimer died
before marking it is fired by another instance once the lease runs out (at least once:
a crash between the post and the mark may repeat that one reminder).

A timer is named by (incident, kind, mark) under a UNIQUE constraint, so scheduling the
same reminder twice (a replayed click, a restart half-way) keeps one row.

Every method is ``async`` on the storage v2 API (``execute``, ``atomic``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    select,
    update,
)

from bot.storage.leases import claim_params, claim_statement, lease_columns
from bot.storage.sql import UtcDateTime, atomic, execute, metadata, upsert

if TYPE_CHECKING:
    from bot.storage.sql import Db

incident_timers = Table(
    "incident_timers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Text, nullable=False),
    Column("kind", Text, nullable=False),  # ico | status
    Column("mark", Text, nullable=False),  # which one: "24" hours, or the status round
    Column("due_at", UtcDateTime, nullable=False),
    Column("fired_at", UtcDateTime),  # fired (done, or found no longer needed)
    *lease_columns(),  # which instance is firing it, until when (bot/storage/leases.py)
    UniqueConstraint("incident_id", "kind", "mark"),
    Index("incident_timers_due", "fired_at", "due_at"),
)

incident_ico = Table(
    "incident_ico",
    metadata,
    Column("incident_id", Text, primary_key=True),
    Column("aware_at", UtcDateTime, nullable=False),  # when we became aware
    Column("deadline_at", UtcDateTime, nullable=False),  # aware_at + 72 hours
    Column("started_by", Text, nullable=False),  # person key, or "bot" (triage)
    Column("dpo", Text),  # the data protection officer's person key, if the file names one
    Column("dpo_name", Text),
    Column("decision", Text),  # reported | not_reportable
    Column("reason", Text),
    Column("decided_by", Text),
    Column("decided_by_name", Text),
    Column("decided_at", UtcDateTime),
)


@dataclass(frozen=True)
class Timer:
    id: int
    incident_id: str
    kind: str
    mark: str
    due_at: datetime


@dataclass(frozen=True)
class IcoRecord:
    """The ICO clock of one incident: when it started and what was decided."""

    incident_id: str
    aware_at: datetime
    deadline_at: datetime
    started_by: str
    dpo: str | None
    dpo_name: str | None
    decision: str | None
    reason: str | None
    decided_by: str | None
    decided_by_name: str | None
    decided_at: datetime | None

    @property
    def running(self) -> bool:
        return self.decision is None


_t = incident_timers
# The worker's claim (bot/storage/leases.py): due, unfired timers nobody holds.
_CLAIM_DUE = claim_statement(
    _t,
    _t.c.fired_at.is_(None) & (_t.c.due_at <= bindparam("due_by")),
    (_t.c.due_at, _t.c.id),
    (_t.c.id, _t.c.incident_id, _t.c.kind, _t.c.mark, _t.c.due_at),
)


def _timer(row: Any) -> Timer:
    return Timer(row.id, row.incident_id, row.kind, row.mark, row.due_at)


class ClockStore:
    """Timers and the ICO record; every call is one short transaction."""

    def __init__(self, db: Db):
        self.db = db

    # --- timers ----------------------------------------------------------------------

    async def schedule(self, incident_id: str, kind: str, mark: str, due_at: datetime) -> bool:
        """Add a timer; False when (incident, kind, mark) exists already."""
        stmt = (
            upsert(incident_timers)
            .values(incident_id=incident_id, kind=kind, mark=mark, due_at=due_at)
            .on_conflict_do_nothing(index_elements=["incident_id", "kind", "mark"])
        )
        return (await execute(self.db, stmt)).rowcount == 1

    async def once(self, incident_id: str, kind: str, mark: str, now: datetime) -> bool:
        """A mark made once only (a row born claimed, never fired): True the first
        time, False ever after. "Post update" keys its form with it, so a second
        click on the same form posts nothing."""
        stmt = (
            upsert(incident_timers)
            .values(incident_id=incident_id, kind=kind, mark=mark, due_at=now, fired_at=now)
            .on_conflict_do_nothing(index_elements=["incident_id", "kind", "mark"])
        )
        return (await execute(self.db, stmt)).rowcount == 1

    async def claim_due(self, now: datetime, owner: str, limit: int = 100) -> list[Timer]:
        """Lease the unfired timers due by ``now`` that no live instance holds, earliest
        first (bot/storage/leases.py): one statement, so each goes to one caller. The
        caller acts, then calls :meth:`done`; if it dies first, the lease runs out and
        another instance (or the next start) fires the timer."""
        params = claim_params(now, limit, owner)
        rows = (await execute(self.db, _CLAIM_DUE, {**params, "due_by": now})).all()
        return sorted((_timer(r) for r in rows), key=lambda t: (t.due_at, t.id))

    async def done(self, timer_id: int, now: datetime) -> None:
        """The timer's work is done (or found no longer needed): it never fires again."""
        t = incident_timers
        stmt = (
            update(t)
            .where(t.c.id == timer_id, t.c.fired_at.is_(None))
            .values(fired_at=now, claimed_by=None, lease_until=None)
        )
        await execute(self.db, stmt)

    async def next_due(self) -> datetime | None:
        """When the earliest unfired timer is due, or when a dead claimer's lease on one
        runs out (None: none is waiting)."""
        t = incident_timers
        waiting = t.c.fired_at.is_(None)
        due = select(func.min(t.c.due_at)).where(waiting, t.c.lease_until.is_(None))
        held = select(func.min(t.c.lease_until)).where(waiting, t.c.lease_until.is_not(None))
        times = [(await execute(self.db, q)).scalar() for q in (due, held)]
        return min((x for x in times if x is not None), default=None)

    async def cancel(self, incident_id: str, kind: str, now: datetime) -> int:
        """Claim every waiting timer of this kind for the incident (it is no longer
        needed); returns how many there were."""
        t = incident_timers
        stmt = (
            update(t)
            .where(t.c.incident_id == incident_id, t.c.kind == kind, t.c.fired_at.is_(None))
            .values(fired_at=now)
        )
        return (await execute(self.db, stmt)).rowcount

    async def pending(self, incident_id: str, kind: str) -> list[Timer]:
        """Timers of this kind not yet claimed, in the order they are due."""
        return await self._listed(incident_id, kind, incident_timers.c.fired_at.is_(None))

    async def fired(self, incident_id: str, kind: str) -> list[Timer]:
        """Timers of this kind already claimed, in the order they were due."""
        return await self._listed(incident_id, kind, incident_timers.c.fired_at.is_not(None))

    async def _listed(
        self, incident_id: str, kind: str, state: ColumnElement[bool]
    ) -> list[Timer]:
        t = incident_timers
        rows = (
            await execute(
                self.db,
                select(t.c.id, t.c.incident_id, t.c.kind, t.c.mark, t.c.due_at)
                .where(t.c.incident_id == incident_id, t.c.kind == kind, state)
                .order_by(t.c.due_at),
            )
        ).all()
        return [_timer(r) for r in rows]

    # --- the ICO clock ---------------------------------------------------------------

    async def start_ico(
        self,
        incident_id: str,
        *,
        aware_at: datetime,
        deadline_at: datetime,
        started_by: str,
        dpo: str | None,
        dpo_name: str | None,
        reminders: list[tuple[str, datetime]],
    ) -> bool:
        """Start the clock and its reminders together; False when it was started
        already (the first start counts: awareness does not move later)."""
        async with atomic(self.db):
            stmt = (
                upsert(incident_ico)
                .values(
                    incident_id=incident_id,
                    aware_at=aware_at,
                    deadline_at=deadline_at,
                    started_by=started_by,
                    dpo=dpo,
                    dpo_name=dpo_name,
                )
                .on_conflict_do_nothing(index_elements=["incident_id"])
            )
            if (await execute(self.db, stmt)).rowcount != 1:
                return False
            for mark, due in reminders:
                await self.schedule(incident_id, "ico", mark, due)
        return True

    async def ico(self, incident_id: str) -> IcoRecord | None:
        row = (
            await execute(
                self.db, select(incident_ico).where(incident_ico.c.incident_id == incident_id)
            )
        ).first()
        return IcoRecord(**row._mapping) if row else None

    async def decide(
        self,
        incident_id: str,
        *,
        decision: str,
        reason: str | None,
        by: str,
        by_name: str,
        now: datetime,
    ) -> bool:
        """Record the decision and stop the reminders; False when one was recorded
        already (the first decision stands; a double click changes nothing)."""
        i = incident_ico
        async with atomic(self.db):
            stmt = (
                update(i)
                .where(i.c.incident_id == incident_id, i.c.decision.is_(None))
                .values(
                    decision=decision,
                    reason=reason,
                    decided_by=by,
                    decided_by_name=by_name,
                    decided_at=now,
                )
            )
            if (await execute(self.db, stmt)).rowcount != 1:
                return False
            await self.cancel(incident_id, "ico", now)
        return True
