"""The incident's checklist (``incident_steps``): a snapshot of the playbook steps
that apply, each open, done or skipped, and who has it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.model import Actor
from bot.storage.db import transaction
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
            [incident_id, step.id, i, step.phase, step.text.en, step.link],
        )
        added += cur.rowcount
    return added


class Steps:
    """Add, read, resolve and assign checklist steps; the ``WHERE status = 'open'``
    makes a double click harmless."""

    def __init__(self, db: Database):
        self.db = db

    def add(self, incident_id: str, steps: list[Step]) -> int:
        """Add steps not already on the checklist (severity raised, a flag added)."""
        start = self.db.execute(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM incident_steps WHERE incident_id = ?",
            [incident_id],
        ).fetchone()[0]
        with transaction(self.db) as conn:
            return insert_steps(conn, incident_id, steps, start)

    def all(self, incident_id: str) -> list[StepState]:
        rows = self.db.execute(
            "SELECT * FROM incident_steps WHERE incident_id = ? ORDER BY position",
            [incident_id],
        ).fetchall()
        return [step_from_row(r) for r in rows]

    def get(self, incident_id: str, step_id: str) -> StepState | None:
        row = self.db.execute(
            "SELECT * FROM incident_steps WHERE incident_id = ? AND step_id = ?",
            [incident_id, step_id],
        ).fetchone()
        return step_from_row(row) if row else None

    def resolve(
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

    def assign(self, incident_id: str, step_id: str, key: str, name: str, now: datetime) -> bool:
        """Give a step to someone, who becomes one of the incident's people."""
        with transaction(self.db) as conn:
            cur = conn.execute(
                "UPDATE incident_steps SET assignee = ?, assignee_name = ?"
                " WHERE incident_id = ? AND step_id = ?",
                [key, name, incident_id, step_id],
            )
            if cur.rowcount == 1:
                add_person_row(conn, incident_id, key, name, "assignee", None, now)
        return cur.rowcount == 1
