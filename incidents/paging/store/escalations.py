"""Incidents' escalation state (``paging_incidents``) and the due jobs (``paging_jobs``):
"run step s of round r at due_at", UNIQUE (incident, step, round); a job moves from
pending to done or cancelled exactly once. The pages themselves are in ``pages``
(``store.pages``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.storage.db import transaction
from incidents.paging.store.pages import PageStore, insert_pages
from incidents.paging.store.rows import (
    JOB_COLS,
    PAGE_COLS,
    IncidentRow,
    JobRow,
    NewPage,
    PageRow,
    job_from_row,
    page_from_row,
    parse_ts,
    ts,
)


def schedule_job(conn: Any, incident_id: str, step: int, rnd: int, due: datetime) -> None:
    """A pending job; OR IGNORE, so a step and round is only ever scheduled once."""
    conn.execute(
        "INSERT OR IGNORE INTO paging_jobs (incident_id, step, repeat_round, due_at,"
        " status) VALUES (?, ?, ?, ?, 'pending')",
        [incident_id, step, rnd, ts(due)],
    )


def cancel_jobs(conn: Any, incident_id: str, now: datetime) -> None:
    conn.execute(
        "UPDATE paging_jobs SET status = 'cancelled', finished_at = ?"
        " WHERE incident_id = ? AND status = 'pending'",
        [ts(now), incident_id],
    )


class PagingStore:
    """Paging's incidents and jobs; its pages are ``self.pages``."""

    def __init__(self, db: Database):
        self.db = db
        self.pages = PageStore(db)

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
            schedule_job(conn, incident_id, 1, 1, now)
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
            cancel_jobs(conn, incident_id, now)
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
                page_from_row(r)
                for r in conn.execute(
                    f"SELECT {PAGE_COLS} FROM paging_outbox WHERE incident_id = ?"
                    " AND action = 'trigger' AND status = 'sent' ORDER BY id",
                    [incident_id],
                ).fetchall()
            ]
            insert_pages(conn, incident_id, followups(sent), now)
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
            cancel_jobs(conn, incident_id, now)
            conn.execute(
                "UPDATE paging_outbox SET status = 'cancelled', detail = ?"
                " WHERE incident_id = ? AND action = 'trigger' AND status = 'pending'",
                [f"team {team} was paged instead", incident_id],
            )
            schedule_job(conn, incident_id, int(chain.get("offset", 0)) + 1, 1, now)
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

    def due_jobs(self, now: datetime) -> list[JobRow]:
        rows = self.db.execute(
            f"SELECT {JOB_COLS} FROM paging_jobs"
            " WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id",
            [ts(now)],
        ).fetchall()
        return [job_from_row(r) for r in rows]

    def job(self, job_id: int) -> JobRow | None:
        r = self.db.execute(f"SELECT {JOB_COLS} FROM paging_jobs WHERE id = ?", [job_id]).fetchone()
        return job_from_row(r) if r else None

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
            insert_pages(conn, job.incident_id, pages, now)
            if next_job is not None:
                step, rnd, due = next_job
                schedule_job(conn, job.incident_id, step, rnd, due)
        return True

    def next_due(self) -> datetime | None:
        """The earliest pending job or page, for the worker's sleep."""
        r = self.db.execute(
            "SELECT MIN(t) FROM ("
            " SELECT MIN(due_at) AS t FROM paging_jobs WHERE status = 'pending'"
            " UNION ALL"
            " SELECT MIN(next_attempt_at) FROM paging_outbox WHERE status = 'pending')"
        ).fetchone()
        return parse_ts(r[0]) if r and r[0] else None
