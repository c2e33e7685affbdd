"""The incident record (``incidents``): create one within the start limits, find it,
and change it. The checklist, the timeline, the people and the triage answers are
parts of the store (``store.steps``, ``store.timeline``, ``store.people``,
``store.triage``), each in its own module.

Every method is ``async`` (storage v2). A change is one UPDATE whose ``WHERE`` names
the state it changes from, so of two clicks at once exactly one changes anything
(acknowledging: the first wins, once; closing: once). What writes more than one
statement, or reads and then writes (a flag added to the list, the status moved on
when the steps are resolved), runs inside ``async with atomic(db)`` and reads with
``FOR UPDATE`` (a row lock on PostgreSQL; on SQLite the transaction holds the write
lock from its start).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, bindparam, func, select, update

from bot.core.model import Actor, Place
from bot.core.tenancy import tenant_of
from bot.storage.sql import atomic, execute, upsert
from incidents.store.model import (
    HOUR,
    Incident,
    StartLimits,
    StartRefused,
    incident_from_row,
)
from incidents.store.people import People, add_person_row
from incidents.store.steps import Steps
from incidents.store.tables import incident_sequence, incidents
from incidents.store.timeline import Timeline, record_event
from incidents.store.triage import TriageAnswers

if TYPE_CHECKING:
    from bot.storage.sql import Db

_i = incidents.c
_THIS = _i.id == bindparam("incident")
_GET = select(incidents).where(_THIS)
_LOCKED = _GET.with_for_update()
_FOR_DELIVERY = select(incidents).where(_i.delivery_key == bindparam("key"))
_OPEN = select(incidents).where(_i.status != "closed").order_by(_i.created_at, _i.id)
# The year's next number, counted and read in one statement.
_next = upsert(incident_sequence).values(year=bindparam("year"), last=1)
_NEXT_NUMBER = _next.on_conflict_do_update(
    index_elements=[incident_sequence.c.year], set_={"last": incident_sequence.c.last + 1}
).returning(incident_sequence.c.last)
_ADD = incidents.insert()
_IN_TRIAGE = (
    select(_i.id)
    .where((_i.reporter == bindparam("reporter")) & (_i.status == "triage"))
    .order_by(_i.id)
)
_MINE = select(func.count()).where(
    (_i.reporter == bindparam("reporter")) & (_i.created_at > bindparam("since"))
)
_HERE = select(func.count()).where(
    (_i.tenant == bindparam("tenant")) & (_i.created_at > bindparam("since"))
)


async def check_limits(
    db: Db, limits: StartLimits, reporter: str, tenant: str, now: datetime
) -> None:
    """Raise StartRefused when a start limit is reached; run inside the create's
    ``atomic``, so two starts at once can't both slip under a limit."""
    ids: list[str] = list((await execute(db, _IN_TRIAGE, {"reporter": reporter})).scalars())
    if len(ids) >= limits.max_open_triage:
        raise StartRefused("open_triage", limits.max_open_triage, ids)
    since = now - HOUR
    mine = (await execute(db, _MINE, {"reporter": reporter, "since": since})).scalar()
    if (mine or 0) >= limits.per_user_hour:
        raise StartRefused("user_rate", limits.per_user_hour)
    here = (await execute(db, _HERE, {"tenant": tenant, "since": since})).scalar()
    if (here or 0) >= limits.per_workspace_hour:
        raise StartRefused("workspace_rate", limits.per_workspace_hour)


class IncidentStore:
    """The incident record, with its checklist, timeline, people and triage answers."""

    def __init__(self, db: Db):
        self.db = db
        self.steps = Steps(db)
        self.timeline = Timeline(db)
        self.people = People(db)
        self.triage = TriageAnswers(self)

    async def create(
        self,
        now: datetime,
        *,
        reporter: Actor,
        origin: Place,
        drill: bool = False,
        platform: str | None = None,
        account: str | None = None,
        department: str | None = None,
        limits: StartLimits | None = None,
        delivery_key: str | None = None,
        owning_team: str | None = None,
    ) -> Incident:
        """A new incident in triage, with the next id of the year (``SEC-2026-0042``).

        ``limits`` are checked in the same write transaction as the insert, from the
        database, so they hold across restarts and between several processes; over a
        limit, :class:`StartRefused` is raised and nothing is created.

        ``delivery_key`` (the delivery that reported it) is stored in the same transaction,
        under a UNIQUE index, so a replayed delivery finds it (:meth:`for_delivery`)."""
        tenant = tenant_of(origin)
        async with atomic(self.db):
            if limits is not None:
                await check_limits(self.db, limits, reporter.key, tenant, now)
            seq: int = (await execute(self.db, _NEXT_NUMBER, {"year": now.year})).scalar_one()
            incident_id = f"SEC-{now.year}-{seq:04d}"
            values = {
                "id": incident_id,
                "drill": int(drill),
                "platform": platform,
                "account": account,
                "triage_step": "symptoms" if platform else "platform",
                "reporter": reporter.key,
                "reporter_name": reporter.name,
                "commander": reporter.key,
                "commander_name": reporter.name,
                "department": department,
                "origin": origin.to_json(),
                "created_at": now,
                "tenant": tenant,
                "delivery_key": delivery_key,
                "owning_team": owning_team,
            }
            await execute(self.db, _ADD, values)
            await add_person_row(
                self.db, incident_id, reporter.key, reporter.name, "reporter", None, now
            )
            await record_event(
                self.db, incident_id, now, reporter, "start", "Reported; triage started"
            )
        found = await self.get(incident_id)
        assert found is not None
        return found

    async def for_delivery(self, delivery_key: str) -> Incident | None:
        """The incident a delivery started, if it did."""
        row = (await execute(self.db, _FOR_DELIVERY, {"key": delivery_key})).first()
        return incident_from_row(row) if row else None

    async def get(self, incident_id: str, *, lock: bool = False) -> Incident | None:
        """The incident; ``lock`` (inside ``atomic``) to change it from what was read."""
        found = await execute(
            self.db, _LOCKED if lock else _GET, {"incident": incident_id.strip().upper()}
        )
        row = found.first()
        return incident_from_row(row) if row else None

    async def in_tenants(
        self, tenants: tuple[str, ...], *, open_only: bool = True
    ) -> list[Incident]:
        """Incidents of these tenants (see bot.core.tenancy.tenants_of), oldest first."""
        query = select(incidents).where(_i.tenant.in_(tenants))
        if open_only:
            query = query.where(_i.status != "closed")
        rows = (await execute(self.db, query.order_by(_i.created_at, _i.id))).all()
        return [incident_from_row(r) for r in rows]

    async def open_incidents(self) -> list[Incident]:
        return [incident_from_row(r) for r in (await execute(self.db, _OPEN)).all()]

    async def latest_open_in(self, place: Place) -> list[Incident]:
        """Open incidents started or run in this conversation, newest first. A Teams
        channel's threads (``19:…@thread.tacv2;messageid=…``) count as the channel."""

        def base(channel: str) -> str:
            return channel.split(";messageid=", 1)[0]

        found = []
        for inc in reversed(await self.open_incidents()):
            for p in (inc.origin, inc.room):
                if (
                    p is not None
                    and p.platform == place.platform
                    and base(p.channel) == base(place.channel)
                ):
                    found.append(inc)
                    break
        return found

    async def set(self, incident_id: str, *only_if: ColumnElement[bool], **values: Any) -> bool:
        """Change columns of one incident in one UPDATE, only where ``only_if`` holds
        (e.g. ``incidents.c.status == "containing"``); False when nothing matched."""
        changed = await execute(
            self.db,
            update(incidents).where(_i.id == incident_id, *only_if).values(**values),
        )
        return changed.rowcount == 1

    async def set_card(self, incident_id: str, card_id: str) -> None:
        await self.set(incident_id, _i.card_id.is_(None), card_id=card_id)

    async def set_room(self, incident_id: str, room: Place) -> None:
        await self.set(incident_id, room=room.to_json())

    async def set_checklist(self, incident_id: str, message_id: str) -> None:
        await self.set(incident_id, checklist_id=message_id)

    async def set_team(self, incident_id: str, team: str) -> None:
        await self.set(incident_id, team=team)

    async def switch_team(self, incident_id: str, team: str) -> None:
        """Another team is paged now (the severity went up): it must acknowledge, so the
        acknowledgement is cleared. Earlier ones stay on the timeline."""
        await self.set(incident_id, team=team, acked_by=None, acked_by_name=None, acked_at=None)

    async def set_account(self, incident_id: str, account: str) -> None:
        await self.set(incident_id, account=account)

    async def set_commander(self, incident_id: str, key: str, name: str, now: datetime) -> None:
        async with atomic(self.db):
            await self.set(incident_id, commander=key, commander_name=name)
            await add_person_row(self.db, incident_id, key, name, "commander", None, now)

    async def set_severity(self, incident_id: str, severity: int) -> None:
        await self.set(incident_id, severity=severity)

    async def add_flag(self, incident_id: str, flag: str) -> bool:
        """Add a flag once; False if it was there already. The list is read locked and
        written in one transaction, so two flags added at once both stay."""
        async with atomic(self.db):
            inc = await self.get(incident_id, lock=True)
            if inc is None or flag in inc.flags:
                return False
            return await self.set(incident_id, flags=json.dumps([*inc.flags, flag]))

    async def advance_status(self, incident_id: str, now: datetime) -> str | None:
        """Move containing → recovering when every contain step is resolved, and
        recovering → monitoring when every recover step is; returns the new status.

        The steps are read and the status moved in one transaction, and each move is
        an UPDATE on the status it moves from: of two steps finished at once, exactly
        one caller sees the move (and puts it on the timeline)."""
        async with atomic(self.db):
            inc = await self.get(incident_id, lock=True)
            if inc is None:
                return None
            steps = await self.steps.all(incident_id)

            def resolved(phase: str) -> bool:
                return all(s.status != "open" for s in steps if s.phase == phase)

            status, changed = inc.status, None
            if status == "containing" and resolved("contain"):
                if await self.set(
                    incident_id,
                    _i.status == "containing",
                    status="recovering",
                    contained_at=now,
                ):
                    status = changed = "recovering"
            if status == "recovering" and resolved("recover"):
                if await self.set(incident_id, _i.status == "recovering", status="monitoring"):
                    changed = "monitoring"
            return changed

    async def acknowledge(self, incident_id: str, actor: Actor, now: datetime) -> bool:
        """The first acknowledgement wins, exactly once: False for every later one."""
        return await self.set(
            incident_id,
            _i.acked_at.is_(None),
            acked_by=actor.key,
            acked_by_name=actor.name,
            acked_at=now,
        )

    async def close(self, incident_id: str, summary: str, now: datetime) -> bool:
        """Close once; False if it was closed already."""
        return await self.set(
            incident_id, _i.status != "closed", status="closed", summary=summary, closed_at=now
        )
