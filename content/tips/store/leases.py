"""The ledger's leases: which instance holds which rows, and the posts left in doubt.

Several instances share one ledger (issue 14). A page of ready rows is claimed with a
lease (``content/tips/lease.py``) in one statement that skips rows another instance
holds; a live instance renews its leases and gives its ``pending`` rows back when it
stops cleanly; a ``sending`` row whose lease ran out (its poster died mid-post) is taken
by whoever looks next, asked about on the platform, and settled only while still held.
The rest of the ledger (claiming a day's row, marking posts sent, the rotation) is in
``ledger.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update

from bot.storage.sql import Db, execute
from content.tips.store.records import (
    MANY,
    PENDING,
    PLACED_DELIVERY_COLUMNS,
    SENDING,
    SENT,
    UNKNOWN,
    Claim,
    Delivery,
    InDoubt,
    delivery_from_row,
    parse_ts,
    ts,
)
from content.tips.store.tables import Unindexed, tip_deliveries, tip_subscriptions

_d, _s = tip_deliveries.c, tip_subscriptions.c
_BY_ID = _d.id == bindparam("delivery_id")
# A row nobody holds, or whose holder's lease ran out.
FREE = _d.lease_until.is_(None) | (_d.lease_until < bindparam("lease_now"))
# A page claimed with a lease (content/tips/lease.py): the ready rows nobody holds (or
# whose holder's lease ran out), oldest first, in one UPDATE; then their channels.
_READY_NOW = (_d.status == PENDING) & (_d.retry_at.is_(None) | (_d.retry_at <= bindparam("now")))
# The pick is a materialised CTE, evaluated once: as a plain ``IN (subquery)``,
# PostgreSQL may run the sub-select again per row, and each run (seeing the rows just
# leased as taken) picks the next ones, so a page grew past its LIMIT.
_PICK = (
    select(_d.id)
    .where(_READY_NOW & FREE)
    .order_by(_d.due_at, _d.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
    .cte("picked")
    .prefix_with("MATERIALIZED", dialect="postgresql")
)
_CLAIM_PAGE = (
    update(tip_deliveries)
    .where(_d.id.in_(select(_PICK.c.id)) & (Unindexed(_d.status) == PENDING) & FREE)
    .values(claimed_by=bindparam("owner"), lease_until=bindparam("lease_end"))
    .returning(_d.id)
)
_PLACED = (
    select(*PLACED_DELIVERY_COLUMNS)
    .join_from(tip_deliveries, tip_subscriptions, _s.id == _d.subscription_id)
    .where(_d.id.in_(bindparam("ids", expanding=True)))
)
# Renewal and release, by status: each is then served by that status's partial index.
_RENEW = (
    update(tip_deliveries)
    .where((_d.status == bindparam("held")) & (_d.claimed_by == bindparam("owner")))
    .values(lease_until=bindparam("lease_end"))
)
_RELEASE = (
    update(tip_deliveries)
    .where((_d.status == PENDING) & (_d.claimed_by == bindparam("owner")))
    .values(claimed_by=None, lease_until=None)
)
# `sending` rows whose holder's lease ran out: it died (or stalled) during the platform
# call, so whether the post arrived is in doubt. Whoever looks takes a few for itself (a
# lease of its own, still `sending`: of two instances exactly one takes a row), asks the
# platform outside any transaction, then settles each, only while it still holds it.
_IN_DOUBT = (_d.status == SENDING) & (
    _d.lease_until.is_(None) | (_d.lease_until < bindparam("lease_now"))
)
_PICK_IN_DOUBT = (
    select(_d.id)
    .where(_IN_DOUBT)
    .order_by(_d.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
    .cte("in_doubt")
    .prefix_with("MATERIALIZED", dialect="postgresql")
)
_TAKE_IN_DOUBT = (
    update(tip_deliveries)
    .where(_d.id.in_(select(_PICK_IN_DOUBT.c.id)) & _IN_DOUBT)
    .values(claimed_by=bindparam("owner"), lease_until=bindparam("lease_end"))
    .returning(_d.id)
)
_IN_DOUBT_PLACED = (
    select(*PLACED_DELIVERY_COLUMNS, _d.updated_at)
    .join_from(tip_deliveries, tip_subscriptions, _s.id == _d.subscription_id)
    .where(_d.id.in_(bindparam("ids", expanding=True)))
    .order_by(_d.id)
)
_HELD_BY_ME = _BY_ID & (_d.status == SENDING) & (_d.claimed_by == bindparam("owner"))
_UNHELD: dict[str, Any] = {"claimed_by": None, "lease_until": None, "updated_at": bindparam("now")}
_SETTLE_SENT = (
    update(tip_deliveries)
    .where(_HELD_BY_ME)
    .values(status=SENT, message_id=bindparam("message_id"), error=None, **_UNHELD)
)
_SETTLE_AGAIN = (
    update(tip_deliveries)
    .where(_HELD_BY_ME)
    .values(status=PENDING, retry_at=None, error=bindparam("error"), **_UNHELD)
)
_SETTLE_UNKNOWN = (
    update(tip_deliveries)
    .where(_HELD_BY_ME)
    .values(status=UNKNOWN, error=bindparam("error"), **_UNHELD)
)
# A post that timed out on a live instance: left `sending` (whether it arrived is in
# doubt), held by nobody until ``lease_end``, when any instance settles it as above. The
# sending time (updated_at) is kept: the history search starts there.
_LEAVE_IN_DOUBT = (
    update(tip_deliveries)
    .where(_BY_ID & (_d.status == SENDING))
    .values(claimed_by=None, lease_until=bindparam("lease_end"), error=bindparam("error"))
)
_LEASE_ENDS = select(func.min(_d.lease_until)).where(
    (_d.status == PENDING) & (_d.lease_until >= bindparam("lease_now"))
)
# A `sending` row's lease that ran out already counts too: its instance died on the wire
# and the row is settled at the next look, which must come now, not after a long sleep.
_IN_DOUBT_ENDS = select(func.min(_d.lease_until)).where(_d.status == SENDING)


class Leases:
    """Claims, renewals and releases of ledger rows, and settling rows left in doubt;
    ``store.leases``."""

    def __init__(self, db: Db):
        self.db = db

    async def claim_page(self, now: datetime, claim: Claim, limit: int) -> list[Delivery]:
        """Claim up to ``limit`` ready rows for ``claim.owner`` until ``claim.until`` (one
        statement; rows another instance holds are skipped) and return them, oldest
        first, each with its channel."""
        taken = await execute(
            self.db,
            _CLAIM_PAGE,
            {
                "now": ts(now),
                "lease_now": now,
                "limit": limit,
                "owner": claim.owner,
                "lease_end": claim.until,
            },
        )
        ids: list[int] = list(taken.scalars())
        rows: list[Any] = []
        for start in range(0, len(ids), MANY):
            found = await execute(self.db, _PLACED, {"ids": ids[start : start + MANY]})
            rows += found.all()
        rows.sort(key=lambda r: (r[7], r[0]))  # due_at, id: the order they were claimed in
        return [delivery_from_row(r) for r in rows]

    async def renew(self, claim: Claim) -> None:
        """Push out every lease ``claim.owner`` holds on rows still in hand."""
        for status in (PENDING, SENDING):
            await execute(
                self.db,
                _RENEW,
                {"held": status, "owner": claim.owner, "lease_end": claim.until},
            )

    async def release(self, owner: str) -> None:
        """Give back the ``pending`` rows ``owner`` holds (a clean stop): any instance
        may claim them at once, without waiting for the lease to run out."""
        await execute(self.db, _RELEASE, {"owner": owner})

    async def take_in_doubt(self, now: datetime, claim: Claim, limit: int) -> list[InDoubt]:
        """Take up to ``limit`` ``sending`` rows whose lease ran out (their poster died or
        gave up mid-post) for ``claim.owner`` (one statement: a row another instance took
        first is skipped), each with its channel and the time it became ``sending``."""
        taken = await execute(
            self.db,
            _TAKE_IN_DOUBT,
            {"lease_now": now, "limit": limit, "owner": claim.owner, "lease_end": claim.until},
        )
        ids: list[int] = list(taken.scalars())
        if not ids:
            return []
        rows = (await execute(self.db, _IN_DOUBT_PLACED, {"ids": ids})).all()
        return [InDoubt(delivery_from_row(r), parse_ts(r[-1]) or now) for r in rows]

    async def settle_in_doubt(
        self,
        delivery_id: int,
        owner: str,
        status: str,
        now: datetime,
        *,
        message_id: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Settle a row taken by ``take_in_doubt``: ``sent`` (found on the platform),
        ``pending`` (certainly not posted: send it again) or ``unknown``. Only while
        ``owner`` still holds it in ``sending``; False if it does not (another instance
        took it over meanwhile and settles it)."""
        stmt = {SENT: _SETTLE_SENT, PENDING: _SETTLE_AGAIN, UNKNOWN: _SETTLE_UNKNOWN}[status]
        outcome = {"message_id": message_id} if status == SENT else {"error": error}
        params = {"delivery_id": delivery_id, "owner": owner, "now": ts(now), **outcome}
        return (await execute(self.db, stmt, params)).rowcount == 1

    async def leave_in_doubt(self, delivery_id: int, until: datetime, error: str) -> None:
        """A post that timed out: leave the row ``sending``, held by nobody until
        ``until``, when whichever instance looks settles it (``take_in_doubt``)."""
        await execute(
            self.db,
            _LEAVE_IN_DOUBT,
            {"delivery_id": delivery_id, "lease_end": until, "error": error},
        )

    async def lease_ends(self, now: datetime) -> datetime | None:
        """When the first lease on a row still in hand runs out (another instance's:
        if it has died, its rows are taken over or settled then)."""
        ends = [
            (await execute(self.db, _LEASE_ENDS, {"lease_now": now})).scalar(),
            (await execute(self.db, _IN_DOUBT_ENDS)).scalar(),
        ]
        return min((e for e in ends if e is not None), default=None)
