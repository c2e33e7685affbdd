"""The incident record (``incidents``): create one within the start limits, find it,
and change it. The checklist, the timeline, the people and the triage answers are
parts of the store (``store.steps``, ``store.timeline``, ``store.people``,
``store.triage``), each in its own module.

Every method is ``async`` (storage v2): a change is one UPDATE whose ``WHERE`` on the
current state makes a double click harmless, and what writes more than one statement,
or reads and then writes, runs inside ``async with atomic(db)``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.model import Actor, Place
from bot.core.tenancy import tenant_of
from bot.storage.sql import atomic
from incidents.store.model import (
    HOUR,
    Incident,
    StartLimits,
    StartRefused,
    incident_from_row,
)
from incidents.store.people import People, add_person_row
from incidents.store.steps import Steps
from incidents.store.timeline import Timeline, record_event
from incidents.store.triage import TriageAnswers

if TYPE_CHECKING:
    from sqlite_utils import Database


def check_limits(conn: Any, limits: StartLimits, reporter: str, tenant: str, now: datetime) -> None:
    """Raise StartRefused when a start limit is reached; run inside the create transaction."""
    rows = conn.execute(
        "SELECT id FROM incidents WHERE reporter = ? AND status = 'triage' ORDER BY id",
        [reporter],
    ).fetchall()
    if len(rows) >= limits.max_open_triage:
        raise StartRefused("open_triage", limits.max_open_triage, [r[0] for r in rows])
    since = (now - HOUR).isoformat()
    mine = conn.execute(
        "SELECT COUNT(*) FROM incidents WHERE reporter = ? AND created_at > ?",
        [reporter, since],
    ).fetchone()[0]
    if mine >= limits.per_user_hour:
        raise StartRefused("user_rate", limits.per_user_hour)
    here = conn.execute(
        "SELECT COUNT(*) FROM incidents WHERE tenant = ? AND created_at > ?", [tenant, since]
    ).fetchone()[0]
    if here >= limits.per_workspace_hour:
        raise StartRefused("workspace_rate", limits.per_workspace_hour)


class IncidentStore:
    """The incident record, with its checklist, timeline, people and triage answers."""

    def __init__(self, db: Database):
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
    ) -> Incident:
        """A new incident in triage, with the next id of the year (``SEC-2026-0042``).

        ``limits`` are checked in the same write transaction as the insert, from the
        database, so they hold across restarts and between several processes; over a
        limit, :class:`StartRefused` is raised and nothing is created.

        ``delivery_key`` (the delivery that reported it) is stored in the same transaction,
        under a UNIQUE index, so a replayed delivery finds it (:meth:`for_delivery`)."""
        tenant = tenant_of(origin)
        async with atomic(self.db):
            conn = self.db.conn
            if limits is not None:
                check_limits(conn, limits, reporter.key, tenant, now)
            conn.execute(
                "INSERT INTO incident_sequence (year, last) VALUES (?, 1)"
                " ON CONFLICT (year) DO UPDATE SET last = last + 1",
                [now.year],
            )
            seq = conn.execute(
                "SELECT last FROM incident_sequence WHERE year = ?", [now.year]
            ).fetchone()[0]
            incident_id = f"SEC-{now.year}-{seq:04d}"
            conn.execute(
                "INSERT INTO incidents (id, drill, platform, account, triage_step, reporter,"
                " reporter_name, commander, commander_name, department, origin, created_at,"
                " tenant, delivery_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    incident_id,
                    int(drill),
                    platform,
                    account,
                    "symptoms" if platform else "platform",
                    reporter.key,
                    reporter.name,
                    reporter.key,
                    reporter.name,
                    department,
                    origin.to_json(),
                    now.isoformat(),
                    tenant,
                    delivery_key,
                ],
            )
            add_person_row(conn, incident_id, reporter.key, reporter.name, "reporter", None, now)
            record_event(conn, incident_id, now, reporter, "start", "Reported; triage started")
        found = await self.get(incident_id)
        assert found is not None
        return found

    async def for_delivery(self, delivery_key: str) -> Incident | None:
        """The incident a delivery started, if it did."""
        row = self.db.execute(
            "SELECT * FROM incidents WHERE delivery_key = ?", [delivery_key]
        ).fetchone()
        return incident_from_row(row) if row else None

    async def get(self, incident_id: str) -> Incident | None:
        row = self.db.execute(
            "SELECT * FROM incidents WHERE id = ?", [incident_id.strip().upper()]
        ).fetchone()
        return incident_from_row(row) if row else None

    async def in_tenants(
        self, tenants: tuple[str, ...], *, open_only: bool = True
    ) -> list[Incident]:
        """Incidents of these tenants (see bot.core.tenancy.tenants_of), oldest first."""
        marks = ", ".join("?" for _ in tenants)
        rows = self.db.execute(
            f"SELECT * FROM incidents WHERE tenant IN ({marks})"
            + (" AND status != 'closed'" if open_only else "")
            + " ORDER BY created_at, id",
            list(tenants),
        ).fetchall()
        return [incident_from_row(r) for r in rows]

    async def open_incidents(self) -> list[Incident]:
        rows = self.db.execute(
            "SELECT * FROM incidents WHERE status != 'closed' ORDER BY created_at, id"
        ).fetchall()
        return [incident_from_row(r) for r in rows]

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

    async def set(self, incident_id: str, where: str = "", args: tuple = (), **values: Any) -> bool:
        cols = ", ".join(f"{k} = ?" for k in values)
        cur = self.db.execute(
            f"UPDATE incidents SET {cols} WHERE id = ? {where}",
            [*values.values(), incident_id, *args],
        )
        return cur.rowcount == 1

    async def set_card(self, incident_id: str, card_id: str) -> None:
        await self.set(incident_id, "AND card_id IS NULL", card_id=card_id)

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
            conn = self.db.conn
            conn.execute(
                "UPDATE incidents SET commander = ?, commander_name = ? WHERE id = ?",
                [key, name, incident_id],
            )
            add_person_row(conn, incident_id, key, name, "commander", None, now)

    async def set_severity(self, incident_id: str, severity: int) -> None:
        await self.set(incident_id, severity=severity)

    async def add_flag(self, incident_id: str, flag: str) -> bool:
        async with atomic(self.db):  # read, then write: no other flag slips in between
            inc = await self.get(incident_id)
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
            inc = await self.get(incident_id)
            if inc is None:
                return None
            steps = await self.steps.all(incident_id)

            def resolved(phase: str) -> bool:
                return all(s.status != "open" for s in steps if s.phase == phase)

            status, changed = inc.status, None
            if status == "containing" and resolved("contain"):
                if await self.set(
                    incident_id,
                    "AND status = 'containing'",
                    status="recovering",
                    contained_at=now.isoformat(),
                ):
                    status = changed = "recovering"
            if status == "recovering" and resolved("recover"):
                if await self.set(incident_id, "AND status = 'recovering'", status="monitoring"):
                    changed = "monitoring"
            return changed

    async def acknowledge(self, incident_id: str, actor: Actor, now: datetime) -> bool:
        return await self.set(
            incident_id,
            "AND acked_at IS NULL",
            acked_by=actor.key,
            acked_by_name=actor.name,
            acked_at=now.isoformat(),
        )

    async def close(self, incident_id: str, summary: str, now: datetime) -> bool:
        return await self.set(
            incident_id,
            "AND status != 'closed'",
            status="closed",
            summary=summary,
            closed_at=now.isoformat(),
        )
