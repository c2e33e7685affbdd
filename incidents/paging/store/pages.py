"""The page outbox (``paging_outbox``): a page is written here before it is sent,
UNIQUE (incident, step, round, target, action), and retried from here until sent or
given up."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from bot.storage.leases import (
    claim_params,
    claim_statement,
    renew_params,
    renew_statement,
)
from bot.storage.sql import Db, atomic, execute, upsert
from incidents.paging.store.rows import PAGE_COLS, NewPage, PageRow, page_from_row, ts
from incidents.paging.store.tables import paging_outbox

# Statements are built once, here, and run with their parameters.
_o = paging_outbox.c
_BY_ID = _o.id == bindparam("page_id")
# A page already written (same incident, step, round, target and action) stays as it is.
_ADD_PAGE = upsert(paging_outbox).on_conflict_do_nothing()
# Claiming is one statement (bot/storage/leases.py): due pages, and pages an instance
# that died was sending (its lease ran out), move to 'sending' under this instance's
# lease and come back (RETURNING), so two instances can't both win a page. On
# PostgreSQL the inner SELECT skips rows another instance's claim has locked (FOR
# UPDATE SKIP LOCKED); on SQLite the statement holds the one write lock.
_CLAIM = claim_statement(
    paging_outbox,
    ((_o.status == "pending") & (_o.next_attempt_at <= bindparam("now")))
    | (_o.status == "sending"),
    (_o.next_attempt_at, _o.id),
    PAGE_COLS,
    status="sending",
    attempts=_o.attempts + 1,
)
_RENEW = renew_statement(paging_outbox)
# A clean stop: pages this instance was sending are due again at once, for any instance.
_RELEASE = (
    update(paging_outbox)
    .where((_o.claimed_by == bindparam("lease_owner")) & (_o.status == "sending"))
    .values(status="pending", claimed_by=None, lease_until=None)
)
_HELD_UNTIL = select(func.min(_o.lease_until)).where(_o.status == "sending")
_FREED = {"claimed_by": None, "lease_until": None}
_MARK_SENT = (
    update(paging_outbox)
    .where(_BY_ID)
    .values(
        status="sent",
        sent_at=bindparam("now"),
        ref=bindparam("ref"),
        detail=bindparam("detail"),
        **_FREED,
    )
)
_MARK_RETRY = (
    update(paging_outbox)
    .where(_BY_ID & (_o.status == "sending"))
    .values(
        status="pending", next_attempt_at=bindparam("when"), detail=bindparam("detail"), **_FREED
    )
)
# Put back unsent (a provider's pause): the claim's attempt is not counted.
_DEFER = (
    update(paging_outbox)
    .where(_BY_ID & (_o.status == "sending"))
    .values(
        status="pending",
        next_attempt_at=bindparam("when"),
        detail=bindparam("detail"),
        attempts=_o.attempts - 1,
        **_FREED,
    )
)
_MARK_DONE = (
    update(paging_outbox)
    .where(_BY_ID)
    .values(status=bindparam("status"), detail=bindparam("detail"), **_FREED)
)
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

    async def claim_due(self, now: datetime, owner: str, limit: int = 50) -> list[PageRow]:
        """Move due pages (and pages a dead instance was sending) to 'sending' under
        ``owner``'s lease and count the attempt, in one UPDATE … RETURNING: only one
        caller (of any instance) holds each page. Oldest first."""
        params = {**claim_params(now, limit, owner), "now": ts(now)}
        claimed = (await execute(self.db, _CLAIM, params)).all()
        return sorted((page_from_row(r) for r in claimed), key=lambda p: p.id)

    async def renew(self, now: datetime, owner: str) -> None:
        """Keep ``owner``'s leases on the pages it is sending."""
        await execute(self.db, _RENEW, renew_params(now, owner))

    async def release(self, owner: str) -> int:
        """A clean stop: pages ``owner`` was sending are due again, for any instance."""
        return (await execute(self.db, _RELEASE, {"lease_owner": owner})).rowcount

    async def held_until(self) -> datetime | None:
        """When the first lease on a page being sent runs out (a dead sender's page is
        taken over then)."""
        return (await execute(self.db, _HELD_UNTIL)).scalar()

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

    async def defer(self, page_id: int, when: datetime, detail: str) -> None:
        """Not sent (a provider's rate-limit pause): due again at ``when``, the claim's
        attempt uncounted."""
        await execute(self.db, _DEFER, {"page_id": page_id, "when": ts(when), "detail": detail})

    async def mark_done(self, page_id: int, status: str, detail: str) -> None:
        """failed, cancelled or skipped: this page will not be sent."""
        await execute(self.db, _MARK_DONE, {"page_id": page_id, "status": status, "detail": detail})

    async def all(self, incident_id: str) -> list[PageRow]:
        rows = (await execute(self.db, _ALL, {"incident_id": incident_id})).all()
        return [page_from_row(r) for r in rows]
