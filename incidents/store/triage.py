"""Triage answers on the incident record, each kept only if triage is still at that
question (a stale click changes nothing), and finishing triage once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.model import Actor
from bot.storage.sql import atomic
from incidents.store.steps import insert_steps
from incidents.store.timeline import record_event
from incidents.triage import LAST_QUESTION

if TYPE_CHECKING:
    from incidents.playbooks import Step
    from incidents.store.records import IncidentStore
    from incidents.triage import Facts


class TriageAnswers:
    """The triage questions' answers, written to the incident record."""

    def __init__(self, records: IncidentStore):
        self.records = records
        self.db = records.db

    async def answer(self, incident_id: str, step: str, next_step: str, **values: Any) -> bool:
        """Record one answer if the triage is still at ``step``; False for a stale click."""
        return await self.records.set(
            incident_id, "AND triage_step = ?", (step,), triage_step=next_step, **values
        )

    async def set_symptom(self, incident_id: str, symptom: str, on: bool) -> bool:
        async with atomic(self.db):  # read, then write: two quick clicks both count
            inc = await self.records.get(incident_id)
            if inc is None or inc.triage_step != "symptoms":
                return False
            chosen = [s for s in inc.symptoms if s != symptom] + ([symptom] if on else [])
            return await self.records.set(
                incident_id, "AND triage_step = 'symptoms'", symptoms=json.dumps(sorted(chosen))
            )

    async def finish(
        self,
        incident_id: str,
        *,
        facts: Facts,
        steps: list[Step],
        actor: Actor,
        now: datetime,
        said: str,
    ) -> bool:
        """Close triage at its last question and snapshot the checklist, once: a second
        click returns False. ``said`` is the last answer, for the timeline."""
        async with atomic(self.db):
            conn = self.db.conn
            cur = conn.execute(
                "UPDATE incidents SET triage_step = 'done', personal_data = ?, kind = ?,"
                " severity = ?, status = 'containing', triaged_at = ?"
                f" WHERE id = ? AND triage_step = '{LAST_QUESTION}'",
                [facts.personal_data, facts.kind, facts.severity, now.isoformat(), incident_id],
            )
            if cur.rowcount != 1:
                return False
            insert_steps(conn, incident_id, steps, 0)
            text = f"{said}. Triage done: severity {facts.severity}"
            if facts.kind == "impersonation":
                text += " (impersonation)"
            record_event(conn, incident_id, now, actor, "triage", text)
        return True
