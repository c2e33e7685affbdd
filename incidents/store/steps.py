"""The incident's checklist (``incident_steps``): a snapshot of the playbook steps
that apply, each open, done or skipped, who has it and whether help was asked for;
and per incident (``incident_checklists``) the phase someone opened early and a
close waiting for confirmation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, select, update

from bot.core.model import Actor
from bot.storage.sql import atomic, execute, serialize, upsert
from incidents.checklist_phases import phase_of
from incidents.store.model import StepState, step_from_row
from incidents.store.people import add_person_row
from incidents.store.tables import incident_checklists, incident_steps

if TYPE_CHECKING:
    from bot.storage.sql import Db
    from incidents.playbooks import Step

_s, _c = incident_steps.c, incident_checklists.c
_INCIDENT = _s.incident_id == bindparam("incident")
_STEP = _INCIDENT & (_s.step_id == bindparam("step"))
# A step already on the checklist stays as it is (its state, who has it).
_ADD = upsert(incident_steps).on_conflict_do_nothing()
_NEXT_POSITION = select(func.coalesce(func.max(_s.position), -1) + 1).where(_INCIDENT)
_ALL = select(incident_steps).where(_INCIDENT).order_by(_s.position)
_GET = select(incident_steps).where(_STEP)
# Each change is one UPDATE on the state it changes from: of two clicks at once, one
# matches and the other finds nothing to change.
_RESOLVE = (
    update(incident_steps)
    .where(_STEP & (_s.status == "open"))
    .values(
        status=bindparam("new_status"),
        by_key=bindparam("by"),
        by_name=bindparam("by_name_"),
        at=bindparam("now"),
        reason=bindparam("why"),
    )
)
_ASSIGN = (
    update(incident_steps)
    .where(_STEP)
    .values(assignee=bindparam("key"), assignee_name=bindparam("name"))
)
_ASK_HELP = (
    update(incident_steps)
    .where(_STEP & (_s.status == "open") & _s.help_by.is_(None))
    .values(help_by=bindparam("by"), help_name=bindparam("by_name_"), help_at=bindparam("now"))
)
_CHECKLIST = select(_c.phase, _c.close_summary, _c.close_by).where(
    _c.incident_id == bindparam("incident")
)


async def insert_steps(db: Db, incident_id: str, steps: list[Step], start: int) -> int:
    """Add steps from position ``start`` (in the caller's ``atomic``); returns how many
    were new."""
    added = 0
    for i, step in enumerate(steps, start=start):
        written = await execute(
            db,
            _ADD,
            {
                "incident_id": incident_id,
                "step_id": step.id,
                "position": i,
                "phase": phase_of(step.phase),
                "text": step.text.en,
                "link": step.link,
            },
        )
        added += written.rowcount
    return added


class Steps:
    """Add, read, resolve and assign checklist steps; the ``WHERE status = 'open'``
    makes a double click harmless."""

    def __init__(self, db: Db):
        self.db = db

    async def add(self, incident_id: str, steps: list[Step]) -> int:
        """Add steps not already on the checklist (severity raised, a flag added)."""
        async with atomic(self.db):  # the next position, read and used under one lock
            await serialize(self.db, f"incident-steps:{incident_id}")
            start = (await execute(self.db, _NEXT_POSITION, {"incident": incident_id})).scalar()
            return await insert_steps(self.db, incident_id, steps, int(start or 0))

    async def all(self, incident_id: str) -> list[StepState]:
        rows = (await execute(self.db, _ALL, {"incident": incident_id})).all()
        return [step_from_row(r) for r in rows]

    async def get(self, incident_id: str, step_id: str) -> StepState | None:
        row = (await execute(self.db, _GET, {"incident": incident_id, "step": step_id})).first()
        return step_from_row(row) if row else None

    async def resolve(
        self,
        incident_id: str,
        step_id: str,
        status: str,
        actor: Actor,
        now: datetime,
        reason: str | None = None,
    ) -> bool:
        """Mark an open step done or skipped; False if it was already resolved."""
        changed = await execute(
            self.db,
            _RESOLVE,
            {
                "incident": incident_id,
                "step": step_id,
                "new_status": status,
                "by": actor.key,
                "by_name_": actor.name,
                "now": now,
                "why": reason,
            },
        )
        return changed.rowcount == 1

    async def assign(
        self, incident_id: str, step_id: str, key: str, name: str, now: datetime
    ) -> bool:
        """Give a step to someone, who becomes one of the incident's people."""
        async with atomic(self.db):
            changed = await execute(
                self.db,
                _ASSIGN,
                {"incident": incident_id, "step": step_id, "key": key, "name": name},
            )
            if changed.rowcount != 1:
                return False
            await add_person_row(self.db, incident_id, key, name, "assignee", None, now)
        return True

    async def ask_help(self, incident_id: str, step_id: str, actor: Actor, now: datetime) -> bool:
        """Record "Need help" on an open step; False if help was already asked for."""
        changed = await execute(
            self.db,
            _ASK_HELP,
            {
                "incident": incident_id,
                "step": step_id,
                "by": actor.key,
                "by_name_": actor.name,
                "now": now,
            },
        )
        return changed.rowcount == 1

    async def _checklist_row(self, incident_id: str):
        return (await execute(self.db, _CHECKLIST, {"incident": incident_id})).first()

    async def _set_checklist(self, incident_id: str, **values: str | None) -> None:
        row = upsert(incident_checklists).values(incident_id=incident_id, **values)
        row = row.on_conflict_do_update(
            index_elements=[_c.incident_id], set_={k: row.excluded[k] for k in values}
        )
        await execute(self.db, row)

    async def chosen_phase(self, incident_id: str) -> str | None:
        """The phase someone opened with "Show next phase" (or went back to), if any."""
        row = await self._checklist_row(incident_id)
        return row.phase if row else None

    async def choose_phase(self, incident_id: str, phase: str) -> None:
        await self._set_checklist(incident_id, phase=phase)

    async def ask_close(self, incident_id: str, summary: str, by: str) -> None:
        """Keep a close that is waiting for confirmation (open steps were left)."""
        await self._set_checklist(incident_id, close_summary=summary, close_by=by)

    async def pending_close(self, incident_id: str) -> str | None:
        """The summary of a close waiting for confirmation, if there is one."""
        row = await self._checklist_row(incident_id)
        return row.close_summary if row else None
