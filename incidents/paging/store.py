"""All of paging's SQL: incidents' escalation state, due jobs and the page outbox.

Three tables, each with the UNIQUE key that makes its work happen once:

- ``paging_incidents``: one row per incident with the escalation chain as it was
  when paging started (later edits to the routing file don't change it).
- ``paging_jobs``: "run step s of round r at due_at", UNIQUE (incident, step, round);
  a job moves from pending to done or cancelled exactly once.
- ``paging_outbox``: a page is written here before it is sent, UNIQUE (incident,
  step, round, target, action), and retried from here until sent or given up.

Every method is synchronous and never awaits, so it is atomic with respect to other
coroutines; multi-statement changes also run in one SQLite transaction so a crash
leaves either all or none of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from bot.storage.db import transaction

DOMAIN = "paging"
MIGRATIONS = [
    """
    CREATE TABLE paging_incidents (
        incident_id TEXT PRIMARY KEY,
        info TEXT NOT NULL,
        team TEXT NOT NULL,
        chain TEXT NOT NULL,
        drill INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('active', 'acknowledged', 'resolved')),
        started_at TEXT NOT NULL,
        acknowledged_at TEXT,
        acknowledged_by TEXT,
        resolved_at TEXT,
        exhausted_at TEXT
    );
    CREATE TABLE paging_jobs (
        id INTEGER PRIMARY KEY,
        incident_id TEXT NOT NULL REFERENCES paging_incidents (incident_id),
        step INTEGER NOT NULL,
        repeat_round INTEGER NOT NULL,
        due_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'cancelled')),
        finished_at TEXT,
        UNIQUE (incident_id, step, repeat_round)
    );
    CREATE INDEX paging_jobs_due ON paging_jobs (status, due_at);
    CREATE TABLE paging_outbox (
        id INTEGER PRIMARY KEY,
        incident_id TEXT NOT NULL REFERENCES paging_incidents (incident_id),
        step INTEGER NOT NULL,
        repeat_round INTEGER NOT NULL,
        target_id TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('trigger', 'acknowledge', 'resolve')),
        provider TEXT NOT NULL,
        target TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('pending', 'sending', 'sent', 'failed', 'cancelled', 'skipped')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        detail TEXT,
        ref TEXT,
        fallback_for TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        UNIQUE (incident_id, step, repeat_round, target_id, action)
    );
    CREATE INDEX paging_outbox_due ON paging_outbox (status, next_attempt_at)
    """
]


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


_JOB_COLS = "id, incident_id, step, repeat_round, due_at, status"


def _job(r: Any) -> JobRow:
    return JobRow(r[0], r[1], r[2], r[3], parse_ts(r[4]), r[5])  # type: ignore[arg-type]


_PAGE_COLS = (
    "id, incident_id, step, repeat_round, target_id, action, provider, target, status,"
    " attempts, next_attempt_at, detail, ref, fallback_for, sent_at"
)


def _page(r: Any) -> PageRow:
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


class PagingStore:
    def __init__(self, db: Database):
        self.db = db

    # --- incidents ----------------------------------------------------------------------

    def create_incident(
        self,
        incident_id: str,
        info: dict[str, Any],
        team: str,
        chain: dict[str, Any],
        drill: bool,
        now: datetime,
    ) -> bool:
        """Snapshot the chain and schedule step 1 of round 1 now; False if already started."""
        with transaction(self.db) as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO paging_incidents (incident_id, info, team, chain, drill,"
                " state, started_at) VALUES (?, ?, ?, ?, ?, 'active', ?)",
                [incident_id, json.dumps(info), team, json.dumps(chain), int(drill), ts(now)],
            )
            if cur.rowcount != 1:
                return False
            self._schedule_job(conn, incident_id, 1, 1, now)
        return True

    def incident(self, incident_id: str) -> IncidentRow | None:
        r = self.db.execute(
            "SELECT incident_id, info, team, chain, drill, state, started_at, acknowledged_at,"
            " acknowledged_by, resolved_at, exhausted_at FROM paging_incidents"
            " WHERE incident_id = ?",
            [incident_id],
        ).fetchone()
        if r is None:
            return None
        return IncidentRow(
            incident_id=r[0],
            info=json.loads(r[1]),
            team=r[2],
            chain=json.loads(r[3]),
            drill=bool(r[4]),
            state=r[5],
            started_at=parse_ts(r[6]),  # type: ignore[arg-type]
            acknowledged_at=parse_ts(r[7]),
            acknowledged_by=r[8],
            resolved_at=parse_ts(r[9]),
            exhausted_at=parse_ts(r[10]),
        )

    def stop(
        self,
        incident_id: str,
        state: str,
        now: datetime,
        actor: str | None,
        followups: Callable[[list[PageRow]], Iterable[NewPage]],
    ) -> bool:
        """Acknowledge or resolve: change state, cancel what is still to come, and queue
        ``followups(sent trigger pages)`` (e.g. PagerDuty acknowledge) — all in one go.

        False if the incident is unknown or the change does not apply (already
        acknowledged, or already resolved).
        """
        allowed = ("active",) if state == "acknowledged" else ("active", "acknowledged")
        with transaction(self.db) as conn:
            if state == "acknowledged":
                cur = conn.execute(
                    "UPDATE paging_incidents SET state = 'acknowledged', acknowledged_at = ?,"
                    " acknowledged_by = ? WHERE incident_id = ? AND state = 'active'",
                    [ts(now), actor, incident_id],
                )
            else:
                cur = conn.execute(
                    "UPDATE paging_incidents SET state = 'resolved', resolved_at = ?"
                    f" WHERE incident_id = ? AND state IN ({','.join('?' * len(allowed))})",
                    [ts(now), incident_id, *allowed],
                )
            if cur.rowcount != 1:
                return False
            self._cancel_jobs(conn, incident_id, now)
            # Pages not yet sent are moot now; so is an acknowledge not yet sent once
            # the incident is resolved (the resolve supersedes it).
            moot = ("trigger",) if state == "acknowledged" else ("trigger", "acknowledge")
            conn.execute(
                "UPDATE paging_outbox SET status = 'cancelled', detail = ?"
                f" WHERE incident_id = ? AND action IN ({','.join('?' * len(moot))})"
                " AND status = 'pending'",
                [f"incident {state} before this was sent", incident_id, *moot],
            )
            sent = [
                _page(r)
                for r in conn.execute(
                    f"SELECT {_PAGE_COLS} FROM paging_outbox WHERE incident_id = ?"
                    " AND action = 'trigger' AND status = 'sent' ORDER BY id",
                    [incident_id],
                ).fetchall()
            ]
            self._insert_pages(conn, incident_id, followups(sent), now)
        return True

    def set_info(self, incident_id: str, info: dict[str, Any]) -> None:
        """New facts (e.g. a changed severity) for the pages still to be sent."""
        self.db.execute(
            "UPDATE paging_incidents SET info = ? WHERE incident_id = ?",
            [json.dumps(info), incident_id],
        )

    def reroute(
        self,
        incident_id: str,
        info: dict[str, Any],
        team: str,
        chain: dict[str, Any],
        now: datetime,
    ) -> bool:
        """Page another team from its first step now: its chain replaces the old one,
        whose jobs and unsent pages are cancelled, and the incident needs acknowledging
        again — all in one transaction. The new chain's steps are numbered after the
        old one's (``chain["offset"]``), so the UNIQUE keys never collide.

        False if the incident is unknown or already resolved.
        """
        with transaction(self.db) as conn:
            cur = conn.execute(
                "UPDATE paging_incidents SET info = ?, team = ?, chain = ?, state = 'active',"
                " acknowledged_at = NULL, acknowledged_by = NULL, exhausted_at = NULL"
                " WHERE incident_id = ? AND state != 'resolved'",
                [json.dumps(info), team, json.dumps(chain), incident_id],
            )
            if cur.rowcount != 1:
                return False
            self._cancel_jobs(conn, incident_id, now)
            conn.execute(
                "UPDATE paging_outbox SET status = 'cancelled', detail = ?"
                " WHERE incident_id = ? AND action = 'trigger' AND status = 'pending'",
                [f"team {team} was paged instead", incident_id],
            )
            self._schedule_job(conn, incident_id, int(chain.get("offset", 0)) + 1, 1, now)
        return True

    def unresolved(self) -> list[str]:
        rows = self.db.execute(
            "SELECT incident_id FROM paging_incidents WHERE state != 'resolved' ORDER BY started_at"
        ).fetchall()
        return [r[0] for r in rows]

    def mark_exhausted(self, incident_id: str, now: datetime) -> None:
        self.db.execute(
            "UPDATE paging_incidents SET exhausted_at = ? WHERE incident_id = ?"
            " AND exhausted_at IS NULL",
            [ts(now), incident_id],
        )

    # --- jobs ---------------------------------------------------------------------------

    def due_jobs(self, now: datetime) -> list[JobRow]:
        rows = self.db.execute(
            f"SELECT {_JOB_COLS} FROM paging_jobs"
            " WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id",
            [ts(now)],
        ).fetchall()
        return [_job(r) for r in rows]

    def job(self, job_id: int) -> JobRow | None:
        r = self.db.execute(
            f"SELECT {_JOB_COLS} FROM paging_jobs WHERE id = ?", [job_id]
        ).fetchone()
        return _job(r) if r else None

    def finish_job(
        self,
        job: JobRow,
        now: datetime,
        pages: Iterable[NewPage] = (),
        next_job: tuple[int, int, datetime] | None = None,
        status: str = "done",
    ) -> bool:
        """Mark the job done, write its pages and schedule the next job, atomically.

        False (and nothing written) if the job was not pending any more: a duplicate
        or stale run never pages twice.
        """
        with transaction(self.db) as conn:
            cur = conn.execute(
                "UPDATE paging_jobs SET status = ?, finished_at = ? WHERE id = ?"
                " AND status = 'pending'",
                [status, ts(now), job.id],
            )
            if cur.rowcount != 1:
                return False
            self._insert_pages(conn, job.incident_id, pages, now)
            if next_job is not None:
                step, rnd, due = next_job
                self._schedule_job(conn, job.incident_id, step, rnd, due)
        return True

    @staticmethod
    def _schedule_job(conn: Any, incident_id: str, step: int, rnd: int, due: datetime) -> None:
        """A pending job; OR IGNORE, so a step and round is only ever scheduled once."""
        conn.execute(
            "INSERT OR IGNORE INTO paging_jobs (incident_id, step, repeat_round, due_at,"
            " status) VALUES (?, ?, ?, ?, 'pending')",
            [incident_id, step, rnd, ts(due)],
        )

    @staticmethod
    def _cancel_jobs(conn: Any, incident_id: str, now: datetime) -> None:
        conn.execute(
            "UPDATE paging_jobs SET status = 'cancelled', finished_at = ?"
            " WHERE incident_id = ? AND status = 'pending'",
            [ts(now), incident_id],
        )

    # --- outbox -------------------------------------------------------------------------

    def _insert_pages(
        self, conn: Any, incident_id: str, pages: Iterable[NewPage], now: datetime
    ) -> int:
        added = 0
        for p in pages:
            cur = conn.execute(
                "INSERT OR IGNORE INTO paging_outbox (incident_id, step, repeat_round,"
                " target_id, action, provider, target, status, attempts, next_attempt_at,"
                " detail, ref, fallback_for, created_at) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
                [
                    incident_id,
                    p.step,
                    p.round,
                    p.target_id,
                    p.action,
                    p.provider,
                    json.dumps(p.target),
                    p.status,
                    ts(now),
                    p.detail,
                    json.dumps(p.ref) if p.ref is not None else None,
                    p.fallback_for,
                    ts(now),
                ],
            )
            added += cur.rowcount
        return added

    def add_pages(self, incident_id: str, pages: Iterable[NewPage], now: datetime) -> int:
        """Write pages (ignoring any already written); returns how many were new."""
        with transaction(self.db) as conn:
            return self._insert_pages(conn, incident_id, pages, now)

    def claim_due_pages(self, now: datetime, limit: int = 50) -> list[PageRow]:
        """Move due pages to 'sending' and count the attempt; only one caller gets each."""
        with transaction(self.db) as conn:
            rows = conn.execute(
                f"SELECT {_PAGE_COLS} FROM paging_outbox WHERE status = 'pending'"
                " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                [ts(now), limit],
            ).fetchall()
            ids = [r[0] for r in rows]
            for pid in ids:
                conn.execute(
                    "UPDATE paging_outbox SET status = 'sending', attempts = attempts + 1"
                    " WHERE id = ? AND status = 'pending'",
                    [pid],
                )
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            claimed = conn.execute(
                f"SELECT {_PAGE_COLS} FROM paging_outbox WHERE id IN ({marks}) ORDER BY id",
                ids,
            ).fetchall()
        return [_page(r) for r in claimed]

    def mark_sent(
        self, page_id: int, now: datetime, ref: dict | None, detail: str | None = None
    ) -> None:
        self.db.execute(
            "UPDATE paging_outbox SET status = 'sent', sent_at = ?, ref = ?, detail = ?"
            " WHERE id = ?",
            [ts(now), json.dumps(ref) if ref is not None else None, detail, page_id],
        )

    def mark_retry(self, page_id: int, when: datetime, detail: str) -> None:
        self.db.execute(
            "UPDATE paging_outbox SET status = 'pending', next_attempt_at = ?, detail = ?"
            " WHERE id = ? AND status = 'sending'",
            [ts(when), detail, page_id],
        )

    def mark_done(self, page_id: int, status: str, detail: str) -> None:
        """failed, cancelled or skipped: this page will not be sent."""
        self.db.execute(
            "UPDATE paging_outbox SET status = ?, detail = ? WHERE id = ?",
            [status, detail, page_id],
        )

    def recover(self) -> int:
        """At start-up: pages a dead process was sending are due again (at-least-once)."""
        cur = self.db.execute(
            "UPDATE paging_outbox SET status = 'pending' WHERE status = 'sending'"
        )
        return cur.rowcount

    def pages(self, incident_id: str) -> list[PageRow]:
        rows = self.db.execute(
            f"SELECT {_PAGE_COLS} FROM paging_outbox WHERE incident_id = ? ORDER BY id",
            [incident_id],
        ).fetchall()
        return [_page(r) for r in rows]

    def next_due(self) -> datetime | None:
        """The earliest pending job or page, for the worker's sleep."""
        r = self.db.execute(
            "SELECT MIN(t) FROM ("
            " SELECT MIN(due_at) AS t FROM paging_jobs WHERE status = 'pending'"
            " UNION ALL"
            " SELECT MIN(next_attempt_at) FROM paging_outbox WHERE status = 'pending')"
        ).fetchone()
        return parse_ts(r[0]) if r and r[0] else None
