"""The incident's timeline (``incident_events``): every change, who made it and when."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.model import Actor
from incidents.store.model import Event

if TYPE_CHECKING:
    from sqlite_utils import Database


def record_event(
    conn: Any, incident_id: str, now: datetime, actor: Actor, kind: str, text: str
) -> None:
    conn.execute(
        "INSERT INTO incident_events (incident_id, at, actor, actor_name, kind, text)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [incident_id, now.isoformat(), actor.key, actor.name or actor.user_id, kind, text],
    )


class Timeline:
    """Append and read the timeline; the report is written from it."""

    def __init__(self, db: Database):
        self.db = db

    async def add(
        self, incident_id: str, now: datetime, actor: Actor, kind: str, text: str
    ) -> None:
        record_event(self.db.conn, incident_id, now, actor, kind, text[:1000])

    async def events(self, incident_id: str) -> list[Event]:
        rows = self.db.execute(
            "SELECT at, actor, actor_name, kind, text FROM incident_events"
            " WHERE incident_id = ? ORDER BY id",
            [incident_id],
        ).fetchall()
        return [Event(datetime.fromisoformat(r[0]), r[1], r[2], r[3], r[4]) for r in rows]
