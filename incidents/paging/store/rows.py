"""What the paging store hands out and takes in: incidents, jobs and pages as rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from incidents.paging.store.tables import paging_jobs, paging_outbox


def ts(dt: datetime) -> str:
    """One fixed-width UTC format, so text comparison in SQL is time comparison."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class IncidentRow:
    incident_id: str
    info: dict[str, Any]
    team: str
    chain: dict[str, Any]
    drill: bool
    state: str
    started_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    exhausted_at: datetime | None
    acknowledged_by_name: str | None = None  # who acknowledged, by name (revision 0015)


@dataclass(frozen=True)
class JobRow:
    id: int
    incident_id: str
    step: int
    round: int
    due_at: datetime
    status: str


@dataclass(frozen=True)
class PageRow:
    id: int
    incident_id: str
    step: int
    round: int
    target_id: str
    action: str
    provider: str
    target: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    detail: str | None
    ref: dict[str, Any] | None
    fallback_for: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class NewPage:
    """A page to write to the outbox (``status`` is pending unless it was skipped)."""

    step: int
    round: int
    target_id: str
    action: str
    provider: str
    target: dict[str, Any]
    status: str = "pending"
    detail: str | None = None
    ref: dict[str, Any] | None = None
    fallback_for: str | None = None


_j, _o = paging_jobs.c, paging_outbox.c
# What a JobRow and a PageRow are read from, in the order the readers below expect.
JOB_COLS = (_j.id, _j.incident_id, _j.step, _j.repeat_round, _j.due_at, _j.status)


def job_from_row(r: Any) -> JobRow:
    return JobRow(r[0], r[1], r[2], r[3], parse_ts(r[4]), r[5])  # type: ignore[arg-type]


PAGE_COLS = (
    _o.id,
    _o.incident_id,
    _o.step,
    _o.repeat_round,
    _o.target_id,
    _o.action,
    _o.provider,
    _o.target,
    _o.status,
    _o.attempts,
    _o.next_attempt_at,
    _o.detail,
    _o.ref,
    _o.fallback_for,
    _o.sent_at,
)


def page_from_row(r: Any) -> PageRow:
    return PageRow(
        id=r[0],
        incident_id=r[1],
        step=r[2],
        round=r[3],
        target_id=r[4],
        action=r[5],
        provider=r[6],
        target=json.loads(r[7]),
        status=r[8],
        attempts=r[9],
        next_attempt_at=parse_ts(r[10]),  # type: ignore[arg-type]
        detail=r[11],
        ref=json.loads(r[12]) if r[12] else None,
        fallback_for=r[13],
        sent_at=parse_ts(r[14]),
    )
