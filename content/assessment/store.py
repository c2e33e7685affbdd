"""Every read and write of team self-assessments (the tables are in ``tables.py``).

Starting is insert-or-nothing under the partial UNIQUE index (one unfinished assessment
per tenant and team), so a repeated or racing ``assess`` command resumes the same one.
An answer is an upsert keyed by (assessment, question): a double click or a retried
delivery writes one row, and a changed answer replaces it. Finishing is one UPDATE that
only an unfinished assessment passes, with the delivery id kept beside it so a replayed
delivery can send the report again and a second click cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select, update

from bot.core.model import Actor
from bot.storage.sql import atomic, execute, upsert
from content.assessment.tables import assessment_answers as aa
from content.assessment.tables import assessments as at

if TYPE_CHECKING:
    from bot.storage.sql import Db


@dataclass(frozen=True)
class Assessment:
    id: int
    tenant: str
    team: str
    team_name: str
    place: str
    started_at: datetime
    started_by: str
    started_by_name: str
    finished_at: datetime | None
    finished_by: str | None
    finished_by_name: str | None
    finish_key: str | None


@dataclass(frozen=True)
class Answered:
    question_id: str
    answer_id: str
    answered_at: datetime
    answered_by_name: str


FINISHED, REPLAY, ALREADY = "finished", "replay", "already"


def _assessment(row: Any) -> Assessment:
    return Assessment(**row._mapping)


class AssessmentStore:
    def __init__(self, db: Db):
        self.db = db

    async def start(
        self, tenant: str, team: str, team_name: str, actor: Actor, place: str, now: datetime
    ) -> tuple[Assessment, bool]:
        """The team's unfinished assessment, made now if there is none; True when made."""
        made = await execute(
            self.db,
            upsert(at)
            .values(
                tenant=tenant, team=team, team_name=team_name, place=place, started_at=now,
                started_by=actor.key, started_by_name=actor.name or actor.user_id,
            )
            .on_conflict_do_nothing(),
        )  # fmt: skip
        found = await self.open_for(tenant, team)
        assert found is not None
        return found, made.rowcount == 1

    async def open_for(self, tenant: str, team: str) -> Assessment | None:
        row = (
            await execute(
                self.db,
                select(at).where(
                    at.c.tenant == tenant, at.c.team == team, at.c.finished_at.is_(None)
                ),
            )
        ).first()
        return _assessment(row) if row else None

    async def get(self, tenant: str, assessment_id: int) -> Assessment | None:
        """Only the tenant's own: an id from another workspace is no assessment."""
        row = (
            await execute(
                self.db, select(at).where(at.c.id == assessment_id, at.c.tenant == tenant)
            )
        ).first()
        return _assessment(row) if row else None

    async def latest_finished(self, tenant: str, team: str) -> Assessment | None:
        row = (
            await execute(
                self.db,
                select(at)
                .where(at.c.tenant == tenant, at.c.team == team, at.c.finished_at.is_not(None))
                .order_by(at.c.finished_at.desc(), at.c.id.desc())
                .limit(1),
            )
        ).first()
        return _assessment(row) if row else None

    async def answers(self, assessment_id: int) -> dict[str, Answered]:
        rows = (
            await execute(
                self.db,
                select(aa.c.question_id, aa.c.answer_id, aa.c.answered_at, aa.c.answered_by_name)
                .where(aa.c.assessment_id == assessment_id),
            )
        ).all()  # fmt: skip
        return {r.question_id: Answered(**r._mapping) for r in rows}

    async def answer(
        self, assessment_id: int, question_id: str, answer_id: str, actor: Actor, now: datetime
    ) -> bool:
        """Record (or change) one answer; False when the assessment is finished."""
        stmt = upsert(aa).values(
            assessment_id=assessment_id, question_id=question_id, answer_id=answer_id,
            answered_at=now, answered_by=actor.key, answered_by_name=actor.name or actor.user_id,
        )  # fmt: skip
        stmt = stmt.on_conflict_do_update(
            index_elements=["assessment_id", "question_id"],
            set_={
                "answer_id": stmt.excluded.answer_id,
                "answered_at": stmt.excluded.answered_at,
                "answered_by": stmt.excluded.answered_by,
                "answered_by_name": stmt.excluded.answered_by_name,
            },
            # The same answer again (a double click, a retry) changes nothing at all.
            where=aa.c.answer_id != stmt.excluded.answer_id,
        )
        async with atomic(self.db):
            still_open = (
                await execute(
                    self.db,
                    select(at.c.id)
                    .where(at.c.id == assessment_id, at.c.finished_at.is_(None))
                    .with_for_update(),
                )
            ).first()
            if still_open is None:
                return False
            await execute(self.db, stmt)
        return True

    async def finish(self, assessment_id: int, actor: Actor, now: datetime, key: str) -> str:
        """FINISHED when this call finished it, REPLAY when the same delivery did
        before (send the report again), ALREADY when someone else's click did."""
        done = await execute(
            self.db,
            update(at)
            .where(and_(at.c.id == assessment_id, at.c.finished_at.is_(None)))
            .values(
                finished_at=now, finished_by=actor.key,
                finished_by_name=actor.name or actor.user_id, finish_key=key or None,
            ),
        )  # fmt: skip
        if done.rowcount == 1:
            return FINISHED
        row = (
            await execute(self.db, select(at.c.finish_key).where(at.c.id == assessment_id))
        ).first()
        return REPLAY if row is not None and key and row.finish_key == key else ALREADY
