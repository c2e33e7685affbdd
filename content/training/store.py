"""Assignments and their reminder timers.

One row per person per tenant: assigning again (a new due date, or the same person
through another team) replaces the due date, so a person is never chased for two dates.
Reminders are rows with a due time, named by (assignment, mark) under a UNIQUE
constraint, and *claimed* before they are sent (``UPDATE … SET fired_at WHERE fired_at
IS NULL``): a replayed command schedules nothing twice, a restart sends what was due and
not yet claimed, and never one already claimed. The mark carries the due date, so a new
date's reminders are new rows and the old date's waiting ones are cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update

from bot.storage.sql import atomic, execute, upsert
from content.training.tables import training_assignments as ta
from content.training.tables import training_nudges as tn

if TYPE_CHECKING:
    from bot.storage.sql import Db


@dataclass(frozen=True)
class Assignment:
    id: int
    tenant: str
    user_key: str
    user_name: str
    team: str
    due_on: date
    place: str
    assigned_at: datetime
    assigned_by: str
    assigned_by_name: str


@dataclass(frozen=True)
class Assignee:
    """One person to assign: their key, name, where it was assigned from (reminders
    reach them from there: :func:`bot.core.reach.reach`) and reminder times."""

    key: str
    name: str
    place: str
    nudges: list[tuple[str, datetime]]


@dataclass(frozen=True)
class Nudge:
    id: int
    assignment_id: int
    mark: str
    due_at: datetime


def _assignment(row: Any) -> Assignment:
    return Assignment(**row._mapping)


_UPSERT = upsert(ta)
_UPSERT = _UPSERT.on_conflict_do_update(
    index_elements=["tenant", "user_key"],
    set_={
        "user_name": _UPSERT.excluded.user_name,
        "team": _UPSERT.excluded.team,
        "due_on": _UPSERT.excluded.due_on,
        "place": _UPSERT.excluded.place,
        "assigned_at": _UPSERT.excluded.assigned_at,
        "assigned_by": _UPSERT.excluded.assigned_by,
        "assigned_by_name": _UPSERT.excluded.assigned_by_name,
    },
)
_ID_OF = select(ta.c.id).where(ta.c.tenant == bindparam("t"), ta.c.user_key == bindparam("k"))
_CANCEL_OTHERS = (
    update(tn)
    .where(
        tn.c.assignment_id == bindparam("a"),
        tn.c.fired_at.is_(None),
        tn.c.mark.not_like(bindparam("prefix")),
    )
    .values(fired_at=bindparam("now"))
)
_SCHEDULE = upsert(tn).on_conflict_do_nothing(index_elements=["assignment_id", "mark"])


class TrainingStore:
    """Assignments and reminders; every write is one short transaction."""

    def __init__(self, db: Db):
        self.db = db

    async def assign(
        self,
        tenant: str,
        people: list[Assignee],
        *,
        team: str,
        due_on: date,
        by: str,
        by_name: str,
        now: datetime,
    ) -> int:
        """Assign the exam to each person, due ``due_on``, with their reminders; returns
        how many had no assignment for this date before (a replay assigns nobody twice)."""
        new = 0
        async with atomic(self.db):
            for person in people:
                before = (
                    await execute(
                        self.db,
                        select(ta.c.due_on).where(
                            ta.c.tenant == tenant, ta.c.user_key == person.key
                        ),
                    )
                ).scalar()
                new += before != due_on
                await execute(
                    self.db,
                    _UPSERT,
                    {
                        "tenant": tenant,
                        "user_key": person.key,
                        "user_name": person.name,
                        "team": team,
                        "due_on": due_on,
                        "place": person.place,
                        "assigned_at": now,
                        "assigned_by": by,
                        "assigned_by_name": by_name,
                    },
                )
                ident: int = (
                    await execute(self.db, _ID_OF, {"t": tenant, "k": person.key})
                ).scalar_one()
                prefix = f"{due_on.isoformat()}:%"
                await execute(self.db, _CANCEL_OTHERS, {"a": ident, "prefix": prefix, "now": now})
                if person.nudges:
                    await execute(
                        self.db,
                        _SCHEDULE,
                        [
                            {"assignment_id": ident, "mark": mark, "due_at": at}
                            for mark, at in person.nudges
                        ],
                    )
        return new

    async def assignment(self, assignment_id: int) -> Assignment | None:
        row = (await execute(self.db, select(ta).where(ta.c.id == assignment_id))).first()
        return _assignment(row) if row else None

    async def of_person(self, tenant: str, key: str) -> Assignment | None:
        stmt = select(ta).where(ta.c.tenant == tenant, ta.c.user_key == key)
        row = (await execute(self.db, stmt)).first()
        return _assignment(row) if row else None

    async def of_team(self, tenant: str, team: str) -> list[Assignment]:
        stmt = select(ta).where(ta.c.tenant == tenant, ta.c.team == team).order_by(ta.c.user_name)
        return [_assignment(r) for r in (await execute(self.db, stmt)).all()]

    async def of_people(self, tenant: str, keys: list[str]) -> dict[str, Assignment]:
        found: dict[str, Assignment] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            stmt = select(ta).where(ta.c.tenant == tenant, ta.c.user_key.in_(chunk))
            for row in (await execute(self.db, stmt)).all():
                found[row.user_key] = _assignment(row)
        return found

    # --- reminders ---------------------------------------------------------------------

    async def due(self, now: datetime, limit: int = 200) -> list[Nudge]:
        stmt = (
            select(tn.c.id, tn.c.assignment_id, tn.c.mark, tn.c.due_at)
            .where(tn.c.fired_at.is_(None), tn.c.due_at <= now)
            .order_by(tn.c.due_at, tn.c.id)
            .limit(limit)
        )
        return [
            Nudge(r.id, r.assignment_id, r.mark, r.due_at)
            for r in (await execute(self.db, stmt)).all()
        ]

    async def next_due(self) -> datetime | None:
        stmt = select(tn.c.due_at).where(tn.c.fired_at.is_(None)).order_by(tn.c.due_at).limit(1)
        return (await execute(self.db, stmt)).scalar()

    async def claim(self, nudge_id: int, now: datetime) -> bool:
        """Take the reminder for this caller: True for exactly one caller, ever."""
        stmt = update(tn).where(tn.c.id == nudge_id, tn.c.fired_at.is_(None)).values(fired_at=now)
        return (await execute(self.db, stmt)).rowcount == 1

    async def cancel(self, assignment_id: int, now: datetime) -> int:
        """Claim every waiting reminder of an assignment (the exam was passed)."""
        stmt = (
            update(tn)
            .where(tn.c.assignment_id == assignment_id, tn.c.fired_at.is_(None))
            .values(fired_at=now)
        )
        return (await execute(self.db, stmt)).rowcount

    async def nudges(self, assignment_id: int) -> list[tuple[str, datetime, datetime | None]]:
        """Every reminder of an assignment: (mark, due, claimed), in due order."""
        stmt = (
            select(tn.c.mark, tn.c.due_at, tn.c.fired_at)
            .where(tn.c.assignment_id == assignment_id)
            .order_by(tn.c.due_at, tn.c.id)
        )
        return [(r.mark, r.due_at, r.fired_at) for r in (await execute(self.db, stmt)).all()]
