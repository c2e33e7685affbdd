"""Triage answers on the incident record, each kept only if triage is still at that
question (a stale click changes nothing), and finishing triage once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.model import Actor
from bot.storage.sql import atomic
from incidents.store.steps import insert_steps
from incidents.store.tables import incidents
from incidents.store.timeline import record_event
from incidents.triage import LAST_QUESTION

if TYPE_CHECKING:
    from incidents.playbooks import Step
    from incidents.store.records import IncidentStore
    from incidents.triage import Facts

_i = incidents.c


class TriageAnswers:
    """The triage questions' answers, written to the incident record."""

    def __init__(self, records: IncidentStore):
        self.records = records
        self.db = records.db

    async def answer(self, incident_id: str, step: str, next_step: str, **values: Any) -> bool:
        """Record one answer if the triage is still at ``step``; False for a stale click."""
        return await self.records.set(
            incident_id, _i.triage_step == step, triage_step=next_step, **values
        )

    async def set_symptom(self, incident_id: str, symptom: str, on: bool) -> bool:
        """Tick or untick one symptom. The list is read locked and written in one
        transaction, so two quick clicks on different symptoms both count."""
        async with atomic(self.db):
            inc = await self.records.get(incident_id, lock=True)
            if inc is None or inc.triage_step != "symptoms":
                return False
            chosen = [s for s in inc.symptoms if s != symptom] + ([symptom] if on else [])
            return await self.records.set(
                incident_id, _i.triage_step == "symptoms", symptoms=json.dumps(sorted(chosen))
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
            if not await self.records.set(
                incident_id,
                _i.triage_step == LAST_QUESTION,
                triage_step="done",
                personal_data=facts.personal_data,
                kind=facts.kind,
                severity=facts.severity,
                status="containing",
                triaged_at=now,
            ):
                return False
            await insert_steps(self.db, incident_id, steps, 0)
            text = f"{said}. Triage done: severity {facts.severity}"
            if facts.kind == "impersonation":
                text += " (impersonation)"
            await record_event(self.db, incident_id, now, actor, "triage", text)
        return True
