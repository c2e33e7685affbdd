"""What the incident store hands out: the record, a checklist step, a timeline event,
and the start limits. Plain frozen values, built from rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.model import Actor, MessageRef, Place
from incidents.triage import Facts, kind_for

OPEN = ("triage", "containing", "recovering", "monitoring")
BOT = Actor("bot", "secbot", "secbot")
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class StartLimits:
    """Limits against abuse on starting incidents (drills count too)."""

    max_open_triage: int = 3  # incidents a person started that are still in triage
    per_user_hour: int = 5  # incidents a person may start in any hour
    per_workspace_hour: int = 20  # incidents a workspace or tenant may start in any hour


class StartRefused(Exception):
    """A start limit was reached: ``kind`` is open_triage, user_rate or workspace_rate."""

    def __init__(self, kind: str, limit: int, open_ids: list[str] | None = None):
        super().__init__(kind)
        self.kind = kind
        self.limit = limit
        self.open_ids = open_ids or []


def from_iso(value: datetime | str | None) -> datetime | None:
    """A time column as read (``UtcDateTime`` gives a datetime; older text is parsed)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value) if value else None
    return value


@dataclass(frozen=True)
class Incident:
    id: str
    drill: bool
    platform: str | None
    account: str | None
    symptoms: tuple[str, ...]
    flags: tuple[str, ...]
    has_access: bool | None
    harmful_live: bool | None
    severity: int | None
    status: str
    triage_step: str
    reporter: str
    reporter_name: str
    commander: str
    commander_name: str
    department: str | None
    summary: str | None
    origin: Place
    card_id: str | None
    room: Place | None
    checklist_id: str | None
    team: str | None
    acked_by: str | None
    acked_by_name: str | None
    created_at: datetime
    triaged_at: datetime | None
    acked_at: datetime | None
    contained_at: datetime | None
    closed_at: datetime | None
    tenant: str = ""  # platform:workspace it belongs to (bot.core.tenancy.tenant_of)
    # The triage answers as words: yes, no or unsure ("Not sure"); None until answered.
    access: str | None = None
    harmful: str | None = None
    personal_data: str | None = None
    kind: str | None = None  # hijack | impersonation, fixed when triage finishes
    # The owning team of the account in the accounts register (incidents/register), when
    # the account is registered: routing rules can match on it.
    owning_team: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    @property
    def facts(self) -> Facts:
        """What the playbooks and the severity rules read. An answer not given (or from
        before "Not sure" existed) reads as the old yes/no column said, else cautiously;
        the personal data question, never asked before, reads as "no"."""

        def word(answer: str | None, old: bool | None) -> str:
            if answer in ("yes", "no", "unsure"):
                return answer
            return "unsure" if old is None else ("yes" if old else "no")

        access = word(self.access, self.has_access)
        return Facts.of(
            self.platform,
            self.symptoms,
            self.severity,
            self.flags,
            kind=self.kind
            if self.kind in ("hijack", "impersonation")
            else kind_for(self.symptoms, access),
            access=access,
            harmful=word(self.harmful, self.harmful_live),
            personal_data=word(self.personal_data, False),
        )

    @property
    def card(self) -> MessageRef | None:
        return MessageRef(self.origin, self.card_id) if self.card_id else None

    @property
    def checklist(self) -> MessageRef | None:
        if self.room is None or not self.checklist_id:
            return None
        return MessageRef(self.room, self.checklist_id)


@dataclass(frozen=True)
class StepState:
    incident_id: str
    step_id: str
    position: int
    phase: str
    text: str
    link: str | None
    status: str  # open | done | skipped
    by_key: str | None
    by_name: str | None
    at: datetime | None
    reason: str | None
    assignee: str | None
    assignee_name: str | None
    help_by: str | None = None  # who pressed "Need help" (a person key), and when
    help_name: str | None = None
    help_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class Event:
    at: datetime
    actor: str
    actor_name: str
    kind: str
    text: str


def _as_dict(row: Any) -> dict[str, Any]:
    """A Core row (or any mapping) as a dict of column → value."""
    return dict(row._mapping) if hasattr(row, "_mapping") else dict(row)


def incident_from_row(row: Any) -> Incident:
    r = _as_dict(row)
    return Incident(
        id=r["id"],
        drill=bool(r["drill"]),
        platform=r["platform"],
        account=r["account"],
        symptoms=tuple(json.loads(r["symptoms"])),
        flags=tuple(json.loads(r["flags"])),
        has_access=None if r["has_access"] is None else bool(r["has_access"]),
        harmful_live=None if r["harmful_live"] is None else bool(r["harmful_live"]),
        severity=r["severity"],
        status=r["status"],
        triage_step=r["triage_step"],
        reporter=r["reporter"],
        reporter_name=r["reporter_name"],
        commander=r["commander"],
        commander_name=r["commander_name"],
        department=r["department"],
        summary=r["summary"],
        origin=Place.from_json(r["origin"]),
        card_id=r["card_id"],
        room=Place.from_json(r["room"]) if r["room"] else None,
        checklist_id=r["checklist_id"],
        team=r["team"],
        acked_by=r["acked_by"],
        acked_by_name=r["acked_by_name"],
        created_at=from_iso(r["created_at"]),  # type: ignore[arg-type]
        triaged_at=from_iso(r["triaged_at"]),
        acked_at=from_iso(r["acked_at"]),
        contained_at=from_iso(r["contained_at"]),
        closed_at=from_iso(r["closed_at"]),
        tenant=r["tenant"] or "",
        access=r["access"],
        harmful=r["harmful"],
        personal_data=r["personal_data"],
        kind=r["kind"],
        owning_team=r.get("owning_team"),
    )


def step_from_row(row: Any) -> StepState:
    r = _as_dict(row)
    r["at"] = from_iso(r["at"])
    r["help_at"] = from_iso(r.get("help_at"))
    return StepState(**r)
