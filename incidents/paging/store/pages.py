"""The page outbox (``paging_outbox``): a page is written here before it is sent,
UNIQUE (incident, step, round, target, action), and retried from here until sent or
given up."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select, update

from bot.storage.sql import Db, atomic, execute, upsert
from incidents.paging.store.rows import PAGE_COLS, NewPage, PageRow, page_from_row, ts
from incidents.paging.store.tables import paging_outbox

# Statements are built once, here, and run with their parameters.
_o = paging_outbox.c
_BY_ID = _o.id == bindparam("page_id")
# A page already written (same incident, step, round, target and action) stays as it is.
_ADD_PAGE = upsert(paging_outbox).on_conflict_do_nothing()
# Claiming is one statement: the due pages move to 'sending' and come back (RETURNING),
# so two instances can't both win a page. On PostgreSQL the inner SELECT takes row locks
# and skips rows another instance has locked (FOR UPDATE SKIP LOCKED); on SQLite the
# statement holds the one write lock. The outer WHERE re-checks 'pending' either way.
_DUE = (
    select(_o.id)
    .where((_o.status == "pending") & (_o.next_attempt_at <= bindparam("now")))
    .order_by(_o.next_attempt_at, _o.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    update(paging_outbox)
    .where(_o.id.in_(_DUE.scalar_subquery()) & (_o.status == "pending"))
    .values(status="sending", attempts=_o.attempts + 1)
    .returning(*PAGE_COLS)
)
_MARK_SENT = (
    update(paging_outbox)
    .where(_BY_ID)
    .values(
        status="sent", sent_at=bindparam("now"), ref=bindparam("ref"), detail=bindparam("detail")
    )
)
_MARK_RETRY = (
    update(paging_outbox)
    .where(_BY_ID & (_o.status == "sending"))
    .values(status="pending", next_attempt_at=bindparam("when"), detail=bindparam("detail"))
)
_MARK_DONE = (
    update(paging_outbox)
    .where(_BY_ID)
    .values(status=bindparam("status"), detail=bindparam("detail"))
)
_RECOVER = update(paging_outbox).where(_o.status == "sending").values(status="pending")
_ALL = select(*PAGE_COLS).where(_o.incident_id == bindparam("incident_id")).order_by(_o.id)


async def insert_pages(
    db: Db, incident_id: str, pages: Iterable[NewPage], now: datetime
) -> int:
    """Write pages in the caller's transaction; returns how many were new."""
    added = 0
    stamp = ts(now)
    for p in pages:
        written = await execute(
            db,
            _ADD_PAGE,
            {
                "incident_id": incident_id,
                "step": p.step,
                "repeat_round": p.round,
                "target_id": p.target_id,
                "action": p.action,
                "provider": p.provider,
                "target": json.dumps(p.target),
                "status": p.status,
                "attempts": 0,
                "next_attempt_at": stamp,
                "detail": p.detail,
                "ref": json.dumps(p.ref) if p.ref is not None else None,
                "fallback_for": p.fallback_for,
                "created_at": stamp,
            },
        )
        added += written.rowcount
    return added


class PageStore:
    """Write, claim and mark pages; only one caller ever claims a page."""

    def __init__(self, db: Db):
        self.db = db

    async def add(self, incident_id: str, pages: Iterable[NewPage], now: datetime) -> int:
        """Write pages (ignoring any already written); returns how many were new."""
        async with atomic(self.db):
            return await insert_pages(self.db, incident_id, pages, now)

    async def claim_due(self, now: datetime, limit: int = 50) -> list[PageRow]:
        """Move due pages to 'sending' and count the attempt, in one UPDATE … RETURNING:
        only one caller (of any instance) ever gets each page. Oldest first."""
        claimed = (await execute(self.db, _CLAIM, {"now": ts(now), "limit": limit})).all()
        return sorted((page_from_row(r) for r in claimed), key=lambda p: p.id)

    async def mark_sent(
        self, page_id: int, now: datetime, ref: dict | None, detail: str | None = None
    ) -> None:
        await execute(
            self.db,
            _MARK_SENT,
            {
                "page_id": page_id,
                "now": ts(now),
                "ref": json.dumps(ref) if ref is not None else None,
                "detail": detail,
            },
        )

    async def mark_retry(self, page_id: int, when: datetime, detail: str) -> None:
        await execute(
            self.db, _MARK_RETRY, {"page_id": page_id, "when": ts(when), "detail": detail}
        )

    async def mark_done(self, page_id: int, status: str, detail: str) -> None:
        """failed, cancelled or skipped: this page will not be sent."""
        await execute(self.db, _MARK_DONE, {"page_id": page_id, "status": status, "detail": detail})

    async def recover(self) -> int:
        """At start-up: pages a dead process was sending are due again (at-least-once)."""
        return (await execute(self.db, _RECOVER)).rowcount

    async def all(self, incident_id: str) -> list[PageRow]:
        rows = (await execute(self.db, _ALL, {"incident_id": incident_id})).all()
        return [page_from_row(r) for r in rows]
