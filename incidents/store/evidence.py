"""Evidence kept for an incident (``incident_evidence``): messages copied to the
timeline and files shared in the incident room, with their SHA-256 hashes; and the
copies waiting for their person to say which incident they are for (``timeline_clips``).

A row's ``source`` is the platform's own key for the message or file, UNIQUE per
incident: the same message or file is recorded once however often it is added, a
retried delivery included. The timeline entry goes in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, Index, Integer, Table, Text, UniqueConstraint, delete, select

from bot.storage.sql import UtcDateTime, execute, inserted_id, metadata, upsert

if TYPE_CHECKING:
    from bot.storage.sql import Db

incident_evidence = Table(
    "incident_evidence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Text, nullable=False),
    Column("kind", Text, nullable=False),  # message | file
    Column("source", Text, nullable=False),  # the platform's key for the message or file
    Column("name", Text, nullable=False),  # the file's name, or the message's author
    Column("size", Integer),  # bytes (files)
    Column("sha256", Text),  # hex; None when the file was too big to read, or unreadable
    Column("by_key", Text, nullable=False),
    Column("by_name", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("incident_id", "source"),
)

timeline_clips = Table(
    "timeline_clips",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("actor", Text, nullable=False),  # the person who may use it (actor key)
    Column("payload", Text, nullable=False),  # JSON: the Clip
    Column("created_at", UtcDateTime, nullable=False),
    Index("timeline_clips_created", "created_at"),
)


@dataclass(frozen=True)
class Evidence:
    incident_id: str
    kind: str
    source: str
    name: str
    size: int | None
    sha256: str | None
    by_key: str
    by_name: str
    at: datetime


@dataclass(frozen=True)
class Clip:
    """A shared message as the timeline will show it (text already inert)."""

    source: str
    author: str
    at: str  # when it was written, for people ("Fri 4 Dec 2026, 19:05 GMT"), or ""
    link: str
    text: str

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Clip:
        data = json.loads(text)
        return cls(
            **{k: str(data.get(k) or "") for k in ("source", "author", "at", "link", "text")}
        )


class EvidenceStore:
    def __init__(self, db: Db):
        self.db = db

    async def add(self, item: Evidence) -> bool:
        """Record ``item``; False, with nothing written, when the incident has it already.
        The caller writes the timeline entry inside the same ``atomic`` block."""
        added = await execute(
            self.db, upsert(incident_evidence).values(**asdict(item)).on_conflict_do_nothing()
        )
        return added.rowcount == 1

    async def all(self, incident_id: str) -> list[Evidence]:
        e = incident_evidence.c
        rows = await execute(
            self.db, select(incident_evidence).where(e.incident_id == incident_id).order_by(e.id)
        )
        return [Evidence(**{k: v for k, v in r._mapping.items() if k != "id"}) for r in rows.all()]

    async def keep_clip(self, actor: str, clip: Clip, now: datetime) -> int:
        made = await execute(
            self.db,
            timeline_clips.insert().values(actor=actor, payload=clip.to_json(), created_at=now),
        )
        return inserted_id(made)

    async def clip(self, clip_id: int, actor: str) -> Clip | None:
        """A kept clip, for the person who kept it only."""
        c = timeline_clips.c
        row = (
            await execute(self.db, select(c.payload).where(c.id == clip_id, c.actor == actor))
        ).first()
        return Clip.from_json(row.payload) if row else None

    async def drop_clip(self, clip_id: int) -> None:
        await execute(self.db, delete(timeline_clips).where(timeline_clips.c.id == clip_id))

    async def prune_clips(self, before: datetime) -> int:
        """Clips nobody chose an incident for: the message text is not kept for ever."""
        gone = await execute(
            self.db, delete(timeline_clips).where(timeline_clips.c.created_at < before)
        )
        return gone.rowcount
