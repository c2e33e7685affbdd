"""The incident's checklist (``incident_steps``): a snapshot of the playbook steps
that apply, each open, done or skipped, who has it and whether help was asked for;
and per incident (``incident_checklists``) the phase someone opened early and a
close waiting for confirmation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.model import Actor
from bot.storage.sql import atomic
from incidents.checklist_phases import phase_of
from incidents.store.model import StepState, step_from_row
from incidents.store.people import add_person_row

if TYPE_CHECKING:
    from sqlite_utils import Database

    from incidents.playbooks import Step


def insert_steps(conn: Any, incident_id: str, steps: list[Step], start: int) -> int:
    added = 0
    for i, step in enumerate(steps, start=start):
        cur = conn.execute(
            "INSERT OR IGNORE INTO incident_steps (incident_id, step_id, position, phase,"
            " text, link) VALUES (?, ?, ?, ?, ?, ?)",
            [incident_id, step.id, i, phase_of(step.phase), step.text.en, step.link],
        )
        added += cur.rowcount
    return added


class Steps:
    """Add, read, resolve and assign checklist steps; the ``WHERE status = 'open'``
    makes a double click harmless."""

    def __init__(self, db: Database):
        self.db = db

    async def add(self, incident_id: str, steps: list[Step]) -> int:
        """Add steps not already on the checklist (severity raised, a flag added)."""
        async with atomic(self.db):  # the next position, read and used in one go
            conn = self.db.conn
            start = conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM incident_steps WHERE incident_id = ?",
                [incident_id],
            ).fetchone()[0]
            return insert_steps(conn, incident_id, steps, start)

    async def all(self, incident_id: str) -> list[StepState]:
        rows = self.db.execute(
            "SELECT * FROM incident_steps WHERE incident_id = ? ORDER BY position",
            [incident_id],
        ).fetchall()
        return [step_from_row(r) for r in rows]

    async def get(self, incident_id: str, step_id: str) -> StepState | None:
        row = self.db.execute(
            "SELECT * FROM incident_steps WHERE incident_id = ? AND step_id = ?",
            [incident_id, step_id],
        ).fetchone()
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
        cur = self.db.execute(
            "UPDATE incident_steps SET status = ?, by_key = ?, by_name = ?, at = ?, reason = ?"
            " WHERE incident_id = ? AND step_id = ? AND status = 'open'",
            [status, actor.key, actor.name, now.isoformat(), reason, incident_id, step_id],
        )
        return cur.rowcount == 1

    async def assign(
        self, incident_id: str, step_id: str, key: str, name: str, now: datetime
    ) -> bool:
        """Give a step to someone, who becomes one of the incident's people."""
        async with atomic(self.db):
            conn = self.db.conn
            cur = conn.execute(
                "UPDATE incident_steps SET assignee = ?, assignee_name = ?"
                " WHERE incident_id = ? AND step_id = ?",
                [key, name, incident_id, step_id],
            )
            if cur.rowcount == 1:
                add_person_row(conn, incident_id, key, name, "assignee", None, now)
        return cur.rowcount == 1

    async def ask_help(self, incident_id: str, step_id: str, actor: Actor, now: datetime) -> bool:
        """Record "Need help" on an open step; False if help was already asked for."""
        cur = self.db.execute(
            "UPDATE incident_steps SET help_by = ?, help_name = ?, help_at = ?"
            " WHERE incident_id = ? AND step_id = ? AND status = 'open' AND help_by IS NULL",
            [actor.key, actor.name, now.isoformat(), incident_id, step_id],
        )
        return cur.rowcount == 1

    async def _checklist_row(self, incident_id: str) -> Any:
        return self.db.execute(
            "SELECT phase, close_summary, close_by FROM incident_checklists WHERE incident_id = ?",
            [incident_id],
        ).fetchone()

    async def _set_checklist(self, incident_id: str, **values: str | None) -> None:
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        updates = ", ".join(f"{k} = excluded.{k}" for k in values)
        self.db.execute(
            f"INSERT INTO incident_checklists (incident_id, {cols}) VALUES (?, {marks})"
            f" ON CONFLICT (incident_id) DO UPDATE SET {updates}",
            [incident_id, *values.values()],
        )

    async def chosen_phase(self, incident_id: str) -> str | None:
        """The phase someone opened with "Show next phase" (or went back to), if any."""
        row = await self._checklist_row(incident_id)
        return row[0] if row else None

    async def choose_phase(self, incident_id: str, phase: str) -> None:
        await self._set_checklist(incident_id, phase=phase)

    async def ask_close(self, incident_id: str, summary: str, by: str) -> None:
        """Keep a close that is waiting for confirmation (open steps were left)."""
        await self._set_checklist(incident_id, close_summary=summary, close_by=by)

    async def pending_close(self, incident_id: str) -> str | None:
        """The summary of a close waiting for confirmation, if there is one."""
        row = await self._checklist_row(incident_id)
        return row[1] if row else None
