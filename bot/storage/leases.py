"""Leases: how several secbot instances share background work with nothing lost or doubled.

A row of work (a kept Slack delivery, a page to send, an escalation step, a timer, a
card to redraw) is *claimed* by one instance for a while: ``claimed_by`` names the
instance (``Services.instance``, a uuid made at start) and ``lease_until`` says until when.
A claim is one statement that takes only rows nobody holds or whose lease has run out,
so two instances never hold one row at once:

``UPDATE t SET claimed_by = :me, lease_until = :until WHERE id IN (SELECT id FROM t
WHERE <due> AND <free> ORDER BY … LIMIT n FOR UPDATE SKIP LOCKED) AND <free> RETURNING …``

On PostgreSQL the inner SELECT locks the rows it picks and skips rows another
instance's claim has locked, so concurrent claims split the work instead of queueing;
on SQLite (where SQLAlchemy leaves ``FOR UPDATE`` out) the statement holds the file's
one write lock, which does the same. The outer ``<free>`` re-checks the lease either way.

The holder renews its leases while it works (every :data:`RENEW_SECONDS`) and releases
them when it finishes or stops cleanly. An instance that dies renews nothing, so its
leases run out and whichever instance looks next takes the work over: nothing is reset
wholesale at start (that would take rows a live sibling is working on).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, Text, bindparam, or_, select, update
from sqlalchemy.sql.dml import ReturningUpdate

from bot.storage.sql import UtcDateTime

# How long a claim lasts without renewal. Long enough that a busy instance renews its
# leases several times before one could run out (so a slow handler is never taken over
# while it is still working), short enough that work a killed instance held is taken
# over within a quarter of a minute.
LEASE_SECONDS = 15.0
# How often a holder renews: a third of the lease, so two renewals can be late (a
# stalled event loop, a busy database) before the lease runs out.
RENEW_SECONDS = 5.0


def new_instance() -> str:
    """An instance's name in ``claimed_by``: new at every start (``Services.instance``), so
    a restarted process never mistakes a lease its earlier life held for one it holds."""
    return uuid.uuid4().hex


def lease_columns() -> tuple[Column[str], Column[datetime]]:
    """The two columns a claimable table adds."""
    return Column("claimed_by", Text), Column("lease_until", UtcDateTime)


def until(now: datetime, seconds: float = LEASE_SECONDS) -> datetime:
    return now + timedelta(seconds=seconds)


def free(table: Table) -> ColumnElement[bool]:
    """Nobody holds the row, or its holder's lease ran out (``:lease_now``)."""
    c = table.c
    return or_(c.lease_until.is_(None), c.lease_until < bindparam("lease_now"))


def claim_statement(
    table: Table,
    due: ColumnElement[bool],
    order_by: Sequence[Any],
    returning: Iterable[Any],
    **values: Any,
) -> ReturningUpdate[Any]:
    """The one claiming statement for ``table`` (see the module docstring), built once.

    Parameters when run: ``lease_now`` (now), ``lease_owner`` (:data:`INSTANCE`),
    ``lease_end`` (:func:`until`), ``lease_limit`` (how many rows at most): see
    :func:`claim_params`. ``values``
    are further columns the claim sets (a status, an attempt count)."""
    key = table.primary_key.columns.values()[0]
    pick = (
        select(key)
        .where(due & free(table))
        .order_by(*order_by)
        .limit(bindparam("lease_limit"))
        .with_for_update(skip_locked=True)
    )
    return (
        update(table)
        .where(key.in_(pick.scalar_subquery()) & free(table))
        .values(claimed_by=bindparam("lease_owner"), lease_until=bindparam("lease_end"), **values)
        .returning(*returning)
    )


def claim_params(now: datetime, limit: int, owner: str) -> dict[str, Any]:
    return {"lease_now": now, "lease_owner": owner, "lease_end": until(now), "lease_limit": limit}


def renew_statement(table: Table) -> Any:
    """Push out every lease ``:lease_owner`` holds on ``table`` (its work in hand)."""
    c = table.c
    return (
        update(table)
        .where(c.claimed_by == bindparam("lease_owner"))
        .values(lease_until=bindparam("lease_end"))
    )


def renew_params(now: datetime, owner: str) -> dict[str, Any]:
    return {"lease_owner": owner, "lease_end": until(now)}


def release_statement(table: Table) -> Any:
    """Give back every lease ``:lease_owner`` holds on ``table`` (a clean stop): the
    rows are free for any instance at once, without waiting for the lease to run out."""
    c = table.c
    return (
        update(table)
        .where(c.claimed_by == bindparam("lease_owner"))
        .values(claimed_by=None, lease_until=None)
    )
