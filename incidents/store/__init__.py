"""All the SQL for incidents, one module per job: the record (``records``), its
checklist (``steps``), timeline (``timeline``), people (``people``) and triage answers
(``triage``); the tables in ``schema``, the values handed out in ``model``."""

from incidents.store.model import (
    BOT,
    OPEN,
    Event,
    Incident,
    StartLimits,
    StartRefused,
    StepState,
)
from incidents.store.records import IncidentStore

__all__ = [
    "BOT",
    "OPEN",
    "Event",
    "Incident",
    "IncidentStore",
    "StartLimits",
    "StartRefused",
    "StepState",
]
