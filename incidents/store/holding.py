"""Holding statements (``incident_holding_lines``): one line per incident and situation,
drafted from the ready-made text, edited, approved by the press office, then posted.

The states only move forward through guarded UPDATEs (``WHERE status = ...``), so a
double click, a retried delivery or two people at once never approve or post twice:
the second finds the row already moved and is told so. An edit after approval puts the
line back to draft: what is posted is always exactly the text someone approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Index, Integer, Table, Text, UniqueConstraint, select, update

from bot.core.model import Actor
from bot.storage.sql import UtcDateTime, execute, metadata, upsert

if TYPE_CHECKING:
    from bot.storage.sql import Db

DRAFT, APPROVED, POSTED = "draft", "approved", "posted"

holding_lines = Table(
    "incident_holding_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Text, nullable=False),
    Column("situation", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("status", Text, nullable=False),  # draft, approved or posted
    Column("version", Integer, nullable=False),  # 1, then one more at every edit
    Column("created_at", UtcDateTime, nullable=False),
    Column("edited_by", Text),
    Column("edited_by_name", Text),
    Column("edited_at", UtcDateTime),
    Column("approved_by", Text),
    Column("approved_by_name", Text),
    Column("approved_at", UtcDateTime),
    Column("posted_by", Text),
    Column("posted_by_name", Text),
    Column("posted_at", UtcDateTime),
    UniqueConstraint("incident_id", "situation", name="uq_incident_holding_lines_situation"),
    Index("incident_holding_lines_incident", "incident_id"),
)
_h = holding_lines.c


@dataclass(frozen=True)
class HoldingLine:
    incident_id: str
    situation: str
    text: str
    status: str
    version: int
    created_at: datetime
    edited_by_name: str | None
    edited_at: datetime | None
    approved_by: str | None
    approved_by_name: str | None
    approved_at: datetime | None
    posted_by_name: str | None
    posted_at: datetime | None


def _line(row: Any) -> HoldingLine:
    m = row._mapping
    return HoldingLine(
        m["incident_id"], m["situation"], m["text"], m["status"], m["version"],
        m["created_at"],
        m["edited_by_name"], m["edited_at"], m["approved_by"], m["approved_by_name"],
        m["approved_at"], m["posted_by_name"], m["posted_at"],
    )  # fmt: skip


def _name(actor: Actor) -> str:
    return actor.name or actor.user_id


class HoldingStore:
    """Draft, edit, approve and post holding statements."""

    def __init__(self, db: Db):
        self.db = db

    async def get(self, incident_id: str, situation: str) -> HoldingLine | None:
        row = (
            await execute(
                self.db,
                select(holding_lines).where(
                    (_h.incident_id == incident_id) & (_h.situation == situation)
                ),
            )
        ).first()
        return _line(row) if row else None

    async def all(self, incident_id: str) -> list[HoldingLine]:
        rows = await execute(
            self.db,
            select(holding_lines).where(_h.incident_id == incident_id).order_by(_h.id),
        )
        return [_line(r) for r in rows.all()]

    async def draft(self, incident_id: str, situation: str, text: str, now: datetime) -> bool:
        """Start a draft from the ready-made text; False when this situation has one."""
        stmt = (
            upsert(holding_lines)
            .values(
                incident_id=incident_id, situation=situation, text=text, status=DRAFT,
                version=1, created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["incident_id", "situation"])
        )  # fmt: skip
        return (await execute(self.db, stmt)).rowcount == 1

    async def edit(
        self, incident_id: str, situation: str, text: str, actor: Actor, now: datetime
    ) -> bool:
        """New words (back to draft if it was approved); False once posted or missing."""
        stmt = (
            update(holding_lines)
            .where(
                (_h.incident_id == incident_id)
                & (_h.situation == situation)
                & (_h.status != POSTED)
            )
            .values(
                text=text, status=DRAFT, version=_h.version + 1, edited_by=actor.key,
                edited_by_name=_name(actor), edited_at=now, approved_by=None,
                approved_by_name=None, approved_at=None,
            )
        )  # fmt: skip
        return (await execute(self.db, stmt)).rowcount == 1

    async def approve(
        self, incident_id: str, situation: str, version: int, actor: Actor, now: datetime
    ) -> bool:
        """Approve the draft, only if it is still the ``version`` the approver was shown:
        an edit in between must be read before it is approved."""
        stmt = (
            update(holding_lines)
            .where(
                (_h.incident_id == incident_id)
                & (_h.situation == situation)
                & (_h.status == DRAFT)
                & (_h.version == version)
            )
            .values(
                status=APPROVED, approved_by=actor.key, approved_by_name=_name(actor),
                approved_at=now,
            )
        )  # fmt: skip
        return (await execute(self.db, stmt)).rowcount == 1

    async def posted(self, incident_id: str, situation: str, actor: Actor, now: datetime) -> bool:
        """Mark an approved line as posted; False unless it was approved and not posted."""
        stmt = (
            update(holding_lines)
            .where(
                (_h.incident_id == incident_id)
                & (_h.situation == situation)
                & (_h.status == APPROVED)
            )
            .values(status=POSTED, posted_by=actor.key, posted_by_name=_name(actor), posted_at=now)
        )
        return (await execute(self.db, stmt)).rowcount == 1
