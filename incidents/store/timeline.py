"""The incident's timeline (``incident_events``): every change, who made it and when."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, insert, select

from bot.core.model import Actor
from bot.storage.sql import execute
from incidents.store.model import Event
from incidents.store.tables import incident_events

if TYPE_CHECKING:
    from bot.storage.sql import Db

_e = incident_events.c
_ADD = insert(incident_events)
_EVENTS = (
    select(_e.at, _e.actor, _e.actor_name, _e.kind, _e.text)
    .where(_e.incident_id == bindparam("incident_id"))
    .order_by(_e.id)
)


async def record_event(
    db: Db, incident_id: str, now: datetime, actor: Actor, kind: str, text: str
) -> None:
    """One timeline entry; inside the caller's ``atomic`` when it has one."""
    await execute(
        db,
        _ADD,
        {
            "incident_id": incident_id,
            "at": now,
            "actor": actor.key,
            "actor_name": actor.name or actor.user_id,
            "kind": kind,
            "text": text,
        },
    )


class Timeline:
    """Append and read the timeline; the report is written from it."""

    def __init__(self, db: Db):
        self.db = db

    async def add(
        self, incident_id: str, now: datetime, actor: Actor, kind: str, text: str
    ) -> None:
        await record_event(self.db, incident_id, now, actor, kind, text[:1000])

    async def events(self, incident_id: str) -> list[Event]:
        rows = (await execute(self.db, _EVENTS, {"incident_id": incident_id})).all()
        return [Event(r.at, r.actor, r.actor_name, r.kind, r.text) for r in rows]
