"""Access reviews, their decisions and leaver tasks, per tenant.

The rules the tables keep: one review per account per period, one decision per person
per review (a second Keep or Remove, a double click or a replay, records nothing and
says what was decided), a reminder claimed once (compare-and-set on
``next_reminder_at``), one removal task per leaver per account, confirmed once.

For ``/secbot posture``: :func:`overdue_reviews`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from bot.storage.sql import atomic, execute, upsert
from incidents.reviews.tables import access_review_decisions as D
from incidents.reviews.tables import access_reviews as R
from incidents.reviews.tables import leaver_tasks as L

if TYPE_CHECKING:
    from bot.storage.sql import Db


@dataclass(frozen=True)
class Reviewed:
    """One person on a review's list."""

    key: str
    name: str
    role: str


@dataclass(frozen=True)
class Decision:
    person_key: str
    person_name: str
    decision: str
    decided_by: str
    decided_by_name: str
    decided_at: datetime


@dataclass(frozen=True)
class Review:
    id: int
    tenant: str
    account_id: int
    account_title: str
    period: str
    owner_id: str
    owner_name: str
    place: str
    people: tuple[Reviewed, ...]
    opened_at: datetime
    due_on: date
    next_reminder_at: datetime | None
    done_at: datetime | None
    done_by: str | None
    done_by_name: str | None

    def overdue(self, today: date) -> bool:
        return self.done_at is None and self.due_on < today


@dataclass(frozen=True)
class LeaverTask:
    id: int
    tenant: str
    leaver_id: str
    leaver_name: str
    person_key: str
    account_id: int
    account_title: str
    owner_id: str
    owner_name: str
    opened_at: datetime
    opened_by: str
    opened_by_name: str
    confirmed_at: datetime | None
    confirmed_by: str | None
    confirmed_by_name: str | None


def _review(row: Any) -> Review:
    data = dict(row._mapping)
    data["people"] = tuple(Reviewed(**p) for p in json.loads(data["people"]))
    return Review(**data)


def _tenants(tenants: str | Iterable[str]) -> list[str]:
    return [tenants] if isinstance(tenants, str) else list(tenants)


async def overdue_reviews(db: Db, tenants: str | Iterable[str], today: date) -> list[Review]:
    """Reviews not finished by their due date, oldest first (for ``/secbot posture``)."""
    stmt = (
        select(R)
        .where(R.c.tenant.in_(_tenants(tenants)), R.c.done_at.is_(None), R.c.due_on < today)
        .order_by(R.c.due_on, R.c.id)
    )
    return [_review(r) for r in (await execute(db, stmt)).all()]


class ReviewStore:
    def __init__(self, db: Db):
        self.db = db

    # --- reviews -----------------------------------------------------------------------

    async def open(
        self,
        *,
        tenant: str,
        account_id: int,
        account_title: str,
        period: str,
        owner_id: str,
        owner_name: str,
        place: str,
        people: list[Reviewed],
        now: datetime,
        due_on: date,
        next_reminder_at: datetime,
    ) -> Review | None:
        """Open the account's review for the period; None when it is open already."""
        stmt = (
            upsert(R)
            .values(
                tenant=tenant,
                account_id=account_id,
                account_title=account_title,
                period=period,
                owner_id=owner_id,
                owner_name=owner_name,
                place=place,
                people=json.dumps([p.__dict__ for p in people]),
                opened_at=now,
                due_on=due_on,
                next_reminder_at=next_reminder_at,
            )
            .on_conflict_do_nothing(index_elements=["account_id", "period"])
        )
        async with atomic(self.db):
            if (await execute(self.db, stmt)).rowcount != 1:
                return None
            row = (
                await execute(
                    self.db, select(R).where(R.c.account_id == account_id, R.c.period == period)
                )
            ).first()
        return _review(row)

    async def get(self, tenants: str | Iterable[str], review_id: int) -> Review | None:
        stmt = select(R).where(R.c.id == review_id, R.c.tenant.in_(_tenants(tenants)))
        row = (await execute(self.db, stmt)).first()
        return _review(row) if row else None

    async def reviewed_accounts(self, period: str) -> set[int]:
        stmt = select(R.c.account_id).where(R.c.period == period)
        return {int(r[0]) for r in (await execute(self.db, stmt)).all()}

    async def open_reviews(self, tenants: str | Iterable[str]) -> list[Review]:
        stmt = (
            select(R)
            .where(R.c.tenant.in_(_tenants(tenants)), R.c.done_at.is_(None))
            .order_by(R.c.due_on, R.c.id)
        )
        return [_review(r) for r in (await execute(self.db, stmt)).all()]

    async def reminders_due(self, now: datetime, limit: int = 200) -> list[Review]:
        stmt = (
            select(R)
            .where(R.c.done_at.is_(None), R.c.next_reminder_at <= now)
            .order_by(R.c.next_reminder_at, R.c.id)
            .limit(limit)
        )
        return [_review(r) for r in (await execute(self.db, stmt)).all()]

    async def claim_reminder(self, review: Review, next_at: datetime) -> bool:
        """Move the reminder on from the time read: True for exactly one caller."""
        stmt = (
            update(R)
            .where(
                R.c.id == review.id,
                R.c.done_at.is_(None),
                R.c.next_reminder_at == review.next_reminder_at,
            )
            .values(next_reminder_at=next_at)
        )
        return (await execute(self.db, stmt)).rowcount == 1

    async def decide(
        self,
        review: Review,
        person: Reviewed,
        decision: str,
        *,
        by: str,
        by_name: str,
        now: datetime,
    ) -> Decision | None:
        """Record the decision; None when this person was decided already."""
        stmt = (
            upsert(D)
            .values(
                review_id=review.id,
                person_key=person.key,
                person_name=person.name,
                decision=decision,
                decided_by=by,
                decided_by_name=by_name,
                decided_at=now,
            )
            .on_conflict_do_nothing(index_elements=["review_id", "person_key"])
        )
        if (await execute(self.db, stmt)).rowcount != 1:
            return None
        return Decision(person.key, person.name, decision, by, by_name, now)

    async def decisions(self, review_id: int) -> dict[str, Decision]:
        stmt = select(D).where(D.c.review_id == review_id).order_by(D.c.id)
        return {
            r.person_key: Decision(
                r.person_key, r.person_name, r.decision, r.decided_by, r.decided_by_name,
                r.decided_at,
            )
            for r in (await execute(self.db, stmt)).all()
        }  # fmt: skip

    async def finish(self, review_id: int, *, by: str, by_name: str, now: datetime) -> bool:
        """Mark the review done (attested by ``by``); True the first time only."""
        stmt = (
            update(R)
            .where(R.c.id == review_id, R.c.done_at.is_(None))
            .values(done_at=now, done_by=by, done_by_name=by_name, next_reminder_at=None)
        )
        return (await execute(self.db, stmt)).rowcount == 1

    # --- leavers -----------------------------------------------------------------------

    async def open_task(self, **values: Any) -> tuple[LeaverTask, bool]:
        """The removal task for (tenant, leaver, account), and whether it is new."""
        stmt = (
            upsert(L)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["tenant", "leaver_id", "account_id"])
        )
        async with atomic(self.db):
            new = (await execute(self.db, stmt)).rowcount == 1
            row = (
                await execute(
                    self.db,
                    select(L).where(
                        L.c.tenant == values["tenant"],
                        L.c.leaver_id == values["leaver_id"],
                        L.c.account_id == values["account_id"],
                    ),
                )
            ).first()
        assert row is not None
        return LeaverTask(**row._mapping), new

    async def task(self, tenants: str | Iterable[str], task_id: int) -> LeaverTask | None:
        stmt = select(L).where(L.c.id == task_id, L.c.tenant.in_(_tenants(tenants)))
        row = (await execute(self.db, stmt)).first()
        return LeaverTask(**row._mapping) if row else None

    async def waiting_tasks(self, tenants: str | Iterable[str]) -> list[LeaverTask]:
        """Leavers' removals no owner has confirmed yet, oldest first."""
        stmt = (
            select(L)
            .where(L.c.tenant.in_(_tenants(tenants)), L.c.confirmed_at.is_(None))
            .order_by(L.c.opened_at, L.c.id)
        )
        return [LeaverTask(**r._mapping) for r in (await execute(self.db, stmt)).all()]

    async def confirm_task(self, task_id: int, *, by: str, by_name: str, now: datetime) -> bool:
        stmt = (
            update(L)
            .where(L.c.id == task_id, L.c.confirmed_at.is_(None))
            .values(confirmed_at=now, confirmed_by=by, confirmed_by_name=by_name)
        )
        return (await execute(self.db, stmt)).rowcount == 1
