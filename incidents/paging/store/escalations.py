"""Incidents' escalation state (``paging_incidents``) and the due jobs (``paging_jobs``):
"run step s of round r at due_at", UNIQUE (incident, step, round); a job moves from
pending to done or cancelled exactly once. The pages themselves are in ``pages``
(``store.pages``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, union_all, update

from bot.storage.leases import claim_params, claim_statement
from bot.storage.sql import Db, atomic, execute, upsert
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
from incidents.paging.store.tables import paging_incidents, paging_jobs, paging_outbox

# Statements are built once, here, and run with their parameters.
_i, _j, _o = paging_incidents.c, paging_jobs.c, paging_outbox.c
_INCIDENT = _i.incident_id == bindparam("incident")
# A step and round is only ever scheduled once; an incident only ever starts once.
_SCHEDULE_JOB = upsert(paging_jobs).on_conflict_do_nothing()
_START = upsert(paging_incidents).on_conflict_do_nothing()
_CANCEL_JOBS = (
    update(paging_jobs)
    .where((_j.incident_id == bindparam("incident")) & (_j.status == "pending"))
    .values(status="cancelled", finished_at=bindparam("now"))
)
_READ_INCIDENT = select(
    _i.incident_id,
    _i.info,
    _i.team,
    _i.chain,
    _i.drill,
    _i.state,
    _i.started_at,
    _i.acknowledged_at,
    _i.acknowledged_by,
    _i.resolved_at,
    _i.exhausted_at,
    _i.acknowledged_by_name,
).where(_INCIDENT)
_ACKNOWLEDGE = (
    update(paging_incidents)
    .where(_INCIDENT & (_i.state == "active"))
    .values(
        state="acknowledged",
        acknowledged_at=bindparam("now"),
        acknowledged_by=bindparam("actor"),
        acknowledged_by_name=bindparam("name"),
    )
)
_RESOLVE = (
    update(paging_incidents)
    .where(_INCIDENT & _i.state.in_(["active", "acknowledged"]))
    .values(state="resolved", resolved_at=bindparam("now"))
)
_CANCEL_UNSENT = (
    update(paging_outbox)
    .where(
        (_o.incident_id == bindparam("incident"))
        & _o.action.in_(bindparam("actions", expanding=True))
        & (_o.status == "pending")
    )
    .values(status="cancelled", detail=bindparam("why"))
)
_SENT_TRIGGERS = (
    select(*PAGE_COLS)
    .where(
        (_o.incident_id == bindparam("incident")) & (_o.action == "trigger") & (_o.status == "sent")
    )
    .order_by(_o.id)
)
_SET_INFO = update(paging_incidents).where(_INCIDENT).values(info=bindparam("info"))
_REROUTE = (
    update(paging_incidents)
    .where(_INCIDENT & (_i.state != "resolved"))
    .values(
        info=bindparam("info"),
        team=bindparam("team"),
        chain=bindparam("chain"),
        state="active",
        acknowledged_at=None,
        acknowledged_by=None,
        acknowledged_by_name=None,
        exhausted_at=None,
    )
)
_UNRESOLVED = select(_i.incident_id).where(_i.state != "resolved").order_by(_i.started_at)
_MARK_EXHAUSTED = (
    update(paging_incidents)
    .where(_INCIDENT & _i.exhausted_at.is_(None))
    .values(exhausted_at=bindparam("now"))
)
_DUE_JOBS = (
    select(*JOB_COLS)
    .where((_j.status == "pending") & (_j.due_at <= bindparam("now")))
    .order_by(_j.due_at, _j.id)
)
# The worker's claim (bot/storage/leases.py): due jobs no live instance is running. A job
# whose runner died is taken again once the lease runs out; ``finish_job`` (pending only)
# keeps a late duplicate from paging twice.
_CLAIM_JOBS = claim_statement(
    paging_jobs,
    (_j.status == "pending") & (_j.due_at <= bindparam("now")),
    (_j.due_at, _j.id),
    JOB_COLS,
)
_JOBS_HELD_UNTIL = select(func.min(_j.lease_until)).where(_j.status == "pending")
_JOB = select(*JOB_COLS).where(_j.id == bindparam("job_id"))
# Grafana OnCall's check: before a step pages, the incident is read again under a row
# lock (FOR UPDATE on PostgreSQL; SQLite's write lock is held from the transaction's
# start), so an acknowledgement that committed since the job was read stops the step.
_STATE_LOCKED = select(_i.state).where(_INCIDENT).with_for_update()
_FINISH_JOB = (
    update(paging_jobs)
    .where((_j.id == bindparam("job_id")) & (_j.status == "pending"))
    .values(status=bindparam("status"), finished_at=bindparam("now"))
)
_soonest = union_all(
    select(func.min(_j.due_at).label("t")).where(_j.status == "pending"),
    select(func.min(_o.next_attempt_at)).where(_o.status == "pending"),
).subquery()
_NEXT_DUE = select(func.min(_soonest.c.t))


async def schedule_job(db: Db, incident_id: str, step: int, rnd: int, due: datetime) -> None:
    """A pending job, unless that step and round was ever scheduled."""
    await execute(
        db,
        _SCHEDULE_JOB,
        {
            "incident_id": incident_id,
            "step": step,
            "repeat_round": rnd,
            "due_at": ts(due),
            "status": "pending",
        },
    )


async def cancel_jobs(db: Db, incident_id: str, now: datetime) -> None:
    await execute(db, _CANCEL_JOBS, {"incident": incident_id, "now": ts(now)})


class PagingStore:
    """Paging's incidents and jobs; its pages are ``self.pages``."""

    def __init__(self, db: Db):
        self.db = db
        self.pages = PageStore(db)

    async def create_incident(
        self,
        incident_id: str,
        info: dict[str, Any],
        team: str,
        chain: dict[str, Any],
        drill: bool,
        now: datetime,
    ) -> bool:
        """Snapshot the chain and schedule step 1 of round 1 now; False if already started."""
        async with atomic(self.db):
            started = await execute(
                self.db,
                _START,
                {
                    "incident_id": incident_id,
                    "info": json.dumps(info),
                    "team": team,
                    "chain": json.dumps(chain),
                    "drill": int(drill),
                    "state": "active",
                    "started_at": ts(now),
                },
            )
            if started.rowcount != 1:
                return False
            await schedule_job(self.db, incident_id, 1, 1, now)
        return True

    async def incident(self, incident_id: str) -> IncidentRow | None:
        r = (await execute(self.db, _READ_INCIDENT, {"incident": incident_id})).first()
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
            acknowledged_by_name=r[11],
        )

    async def stop(
        self,
        incident_id: str,
        state: str,
        now: datetime,
        actor: str | None,
        followups: Callable[[list[PageRow]], Iterable[NewPage]],
        actor_name: str = "",
    ) -> bool:
        """Acknowledge or resolve: change state, cancel what is still to come, and queue
        ``followups(sent trigger pages)`` (e.g. PagerDuty acknowledge) — all in one go.
        ``actor_name`` (who acknowledged, by name) is kept with the state, so a followup
        sent the moment this commits already names them.

        False if the incident is unknown or the change does not apply (already
        acknowledged, or already resolved).
        """
        key = {"incident": incident_id}
        async with atomic(self.db):
            if state == "acknowledged":
                changed = await execute(
                    self.db,
                    _ACKNOWLEDGE,
                    {**key, "now": ts(now), "actor": actor, "name": actor_name or None},
                )
            else:
                changed = await execute(self.db, _RESOLVE, {**key, "now": ts(now)})
            if changed.rowcount != 1:
                return False
            await cancel_jobs(self.db, incident_id, now)
            # Pages not yet sent are moot now; so is an acknowledge not yet sent once
            # the incident is resolved (the resolve supersedes it).
            moot = ["trigger"] if state == "acknowledged" else ["trigger", "acknowledge"]
            why = f"incident {state} before this was sent"
            await execute(self.db, _CANCEL_UNSENT, {**key, "actions": moot, "why": why})
            sent = [page_from_row(r) for r in (await execute(self.db, _SENT_TRIGGERS, key)).all()]
            await insert_pages(self.db, incident_id, followups(sent), now)
        return True

    async def set_info(self, incident_id: str, info: dict[str, Any]) -> None:
        """New facts (e.g. a changed severity) for the pages still to be sent."""
        await execute(self.db, _SET_INFO, {"incident": incident_id, "info": json.dumps(info)})

    async def reroute(
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
        key = {"incident": incident_id}
        async with atomic(self.db):
            changed = await execute(
                self.db,
                _REROUTE,
                {**key, "info": json.dumps(info), "team": team, "chain": json.dumps(chain)},
            )
            if changed.rowcount != 1:
                return False
            await cancel_jobs(self.db, incident_id, now)
            why = f"team {team} was paged instead"
            await execute(self.db, _CANCEL_UNSENT, {**key, "actions": ["trigger"], "why": why})
            await schedule_job(self.db, incident_id, int(chain.get("offset", 0)) + 1, 1, now)
        return True

    async def unresolved(self) -> list[str]:
        return list((await execute(self.db, _UNRESOLVED)).scalars())

    async def mark_exhausted(self, incident_id: str, now: datetime) -> None:
        await execute(self.db, _MARK_EXHAUSTED, {"incident": incident_id, "now": ts(now)})

    async def due_jobs(self, now: datetime) -> list[JobRow]:
        return [
            job_from_row(r) for r in (await execute(self.db, _DUE_JOBS, {"now": ts(now)})).all()
        ]

    async def claim_jobs(self, now: datetime, owner: str, limit: int = 50) -> list[JobRow]:
        """Lease the due jobs nobody runs now (a dead runner's, once its lease ran out)."""
        params = {**claim_params(now, limit, owner), "now": ts(now)}
        rows = (await execute(self.db, _CLAIM_JOBS, params)).all()
        return sorted((job_from_row(r) for r in rows), key=lambda j: (j.due_at, j.id))

    async def held_until(self) -> datetime | None:
        """When the first lease on a pending job or a page being sent runs out."""
        times = [(await execute(self.db, _JOBS_HELD_UNTIL)).scalar()]
        times.append(await self.pages.held_until())
        return min((t for t in times if t is not None), default=None)

    async def job(self, job_id: int) -> JobRow | None:
        r = (await execute(self.db, _JOB, {"job_id": job_id})).first()
        return job_from_row(r) if r else None

    async def finish_job(
        self,
        job: JobRow,
        now: datetime,
        pages: Iterable[NewPage] = (),
        next_job: tuple[int, int, datetime] | None = None,
        status: str = "done",
        *,
        exhausted: bool = False,
    ) -> bool:
        """Mark the job done, write its pages and schedule the next job (or, for the
        chain's end, mark the incident ``exhausted``), atomically.

        False (and nothing written) if the job was not pending any more, or if the
        incident is no longer active when re-read under its lock: a duplicate or stale
        run never pages twice, and none pages after an acknowledgement.
        """
        async with atomic(self.db):
            if status == "done":
                state = await execute(self.db, _STATE_LOCKED, {"incident": job.incident_id})
                if state.scalar() != "active":
                    return False  # acknowledged or resolved: its jobs are cancelled
            finished = await execute(
                self.db, _FINISH_JOB, {"job_id": job.id, "status": status, "now": ts(now)}
            )
            if finished.rowcount != 1:
                return False
            await insert_pages(self.db, job.incident_id, pages, now)
            if next_job is not None:
                step, rnd, due = next_job
                await schedule_job(self.db, job.incident_id, step, rnd, due)
            if exhausted:
                await execute(
                    self.db, _MARK_EXHAUSTED, {"incident": job.incident_id, "now": ts(now)}
                )
        return True

    async def next_due(self) -> datetime | None:
        """The earliest pending job or page, for the worker's sleep."""
        return parse_ts((await execute(self.db, _NEXT_DUE)).scalar())
