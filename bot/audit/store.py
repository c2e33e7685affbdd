"""The audit log's table: one row per admin action, written once and never changed.

The store can add and read, nothing else: there is no update and no delete here, and no
chat command reaches one, so an admin cannot tidy away what they did
(``tests/test_audit_log.py`` checks the class has no other way in). Every text an entry
holds is made inert when it is written (``bot.core.inert``), so a name or a target with
markup or bidi characters reads as plain words wherever the log is shown or exported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Integer, Table, Text, func, insert, or_, select

from bot.core.inert import one_line
from bot.storage.sql import Db, UtcDateTime, execute, inserted_id, metadata

# Front doors an entry may name: the three chat platforms, and operators' commands.
DOORS = ("slack", "teams", "web", "cli")
MAX_TARGET = 300

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("door", Text, nullable=False),  # slack | teams | web | cli
    Column("workspace", Text, nullable=False),  # Slack team, Teams tenant, local, or ""
    Column("actor", Text, nullable=False),  # who: the admin's key, platform:id
    Column("actor_name", Text, nullable=False),
    Column("action", Text, nullable=False),  # a short verb phrase: "retried a dead letter"
    Column("target", Text, nullable=False),  # what, in plain words
    Column("subject", Text),  # the person it was about, as a pseudonym (bot.privacy)
    Index("audit_log_at", "at"),
    Index("audit_log_subject", "subject"),
    sqlite_autoincrement=True,
)


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    door: str
    workspace: str
    actor: str
    actor_name: str
    action: str
    target: str
    subject: str | None


_COLUMNS = [audit_log.c[name] for name in Entry.__dataclass_fields__]


def _entry(row: Any) -> Entry:
    return Entry(*row)


class AuditLog:
    """Append and read; deliberately nothing else."""

    def __init__(self, db: Db):
        self.db = db

    async def add(
        self,
        *,
        at: datetime,
        door: str,
        workspace: str,
        actor: str,
        actor_name: str,
        action: str,
        target: str,
        subject: str | None = None,
    ) -> int:
        if door not in DOORS:
            raise ValueError(f"unknown front door {door!r}")
        row = {
            "at": at,
            "door": door,
            "workspace": one_line(workspace, 100),
            "actor": one_line(actor, 200),
            "actor_name": one_line(actor_name, 100),
            "action": one_line(action, 100),
            "target": one_line(target, MAX_TARGET),
            "subject": one_line(subject, 100) if subject else None,
        }
        return inserted_id(await execute(self.db, insert(audit_log).values(**row)))

    async def page(self, limit: int, before: int | None = None) -> list[Entry]:
        """The newest ``limit`` entries older than id ``before`` (all when None), newest first."""
        query = select(*_COLUMNS).order_by(audit_log.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(audit_log.c.id < before)
        return [_entry(row) for row in (await execute(self.db, query)).all()]

    async def count(self) -> int:
        query = select(func.count()).select_from(audit_log)
        return int((await execute(self.db, query)).scalar() or 0)

    async def all(self) -> list[Entry]:
        """Every entry, oldest first (the CSV export)."""
        query = select(*_COLUMNS).order_by(audit_log.c.id)
        return [_entry(row) for row in (await execute(self.db, query)).all()]

    async def about(self, actor_key: str, subjects: Sequence[str]) -> list[Entry]:
        """Entries a person made (as an admin) or that were about them (by pseudonym)."""
        cond = audit_log.c.actor == actor_key
        if subjects:
            cond = or_(cond, audit_log.c.subject.in_(list(subjects)))
        query = select(*_COLUMNS).where(cond).order_by(audit_log.c.id)
        return [_entry(row) for row in (await execute(self.db, query)).all()]
