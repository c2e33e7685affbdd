"""Counts across incidents for the posture summary (``/secbot posture`` and ``/metrics``):
how many are open, and when the last drill was, per tenant and owning team, and the
newest open ones by id.

Grouped or limited queries, whatever the number of incidents: the posture is read at every
Prometheus scrape, so it must never load the records themselves. ``owning_team`` is the
registered account's team, kept on the incident when it was reported (revision 0009);
it is returned as written, and the caller folds spellings with the register's
``team_key``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy import bindparam, func, select

from bot.storage.sql import execute
from incidents.store.tables import incidents

if TYPE_CHECKING:
    from bot.storage.sql import Db

_i = incidents.c
_TENANTS = _i.tenant.in_(bindparam("tenants", expanding=True))
_OPEN = (
    select(_i.tenant, _i.owning_team, _i.drill, func.count())
    .where(_TENANTS, _i.status != "closed")
    .group_by(_i.tenant, _i.owning_team, _i.drill)
)
_LAST_DRILL = (
    select(_i.tenant, _i.owning_team, func.max(_i.created_at))
    .where(_TENANTS, _i.drill == 1)
    .group_by(_i.tenant, _i.owning_team)
)
_OPEN_LIST = (
    select(_i.id, _i.tenant, _i.owning_team, _i.platform, _i.account, _i.status)
    .where(_TENANTS, _i.status != "closed", _i.drill == 0)
    .order_by(_i.created_at.desc(), _i.id.desc())
    .limit(bindparam("limit"))
)
_OPEN_TENANTS = select(_i.tenant).where(_i.status != "closed", _i.tenant.is_not(None)).distinct()


@dataclass(frozen=True)
class OpenCount:
    tenant: str
    team: str  # the owning team as written on the incident; "" when none was recorded
    drill: bool
    count: int


@dataclass(frozen=True)
class LastDrill:
    tenant: str
    team: str
    at: datetime


async def open_counts(db: Db, tenants: Iterable[str]) -> list[OpenCount]:
    """Incidents not closed, by tenant, owning team and whether they are drills."""
    rows = (await execute(db, _OPEN, {"tenants": list(tenants)})).all()
    found = cast(list[tuple[str, str | None, int, int]], rows)
    return [OpenCount(str(t), str(team or ""), bool(d), int(n)) for t, team, d, n in found]


@dataclass(frozen=True)
class OpenIncident:
    id: str
    tenant: str
    team: str
    platform: str
    account: str
    status: str


async def open_incidents(db: Db, tenants: Iterable[str], limit: int) -> list[OpenIncident]:
    """The newest ``limit`` open incidents (not drills), a few columns each: what the
    summary lists by id; :func:`open_counts` has the totals."""
    params = {"tenants": list(tenants), "limit": limit}
    return [
        OpenIncident(str(i), str(t), str(team or ""), str(p or ""), str(a or ""), str(s))
        for i, t, team, p, a, s in (await execute(db, _OPEN_LIST, params)).all()
    ]


async def last_drills(db: Db, tenants: Iterable[str]) -> list[LastDrill]:
    """When each tenant and owning team last started a drill (closed ones count too)."""
    rows = (await execute(db, _LAST_DRILL, {"tenants": list(tenants)})).all()
    found = cast(list[tuple[str, str | None, datetime | None]], rows)
    return [LastDrill(str(t), str(team or ""), at) for t, team, at in found if at is not None]


async def tenants_with_open(db: Db) -> list[str]:
    """Every tenant with an incident not closed (for ``/metrics``, which counts all)."""
    return sorted(str(t) for (t,) in (await execute(db, _OPEN_TENANTS)).all())
