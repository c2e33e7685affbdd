"""All the storage for incidents, one module per job: the record (``records``), its
checklist (``steps``), timeline (``timeline``), people (``people``) and triage answers
(``triage``); the tables declared in ``tables`` (the schema is Alembic's, see
``schema``), the values handed out in ``model``. Every method is ``async``, built with
SQLAlchemy Core and run with ``bot.storage.sql.execute``."""

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
