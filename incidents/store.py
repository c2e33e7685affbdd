"""All the SQL for incidents: the record, its triage answers, checklist and timeline.

Migrations domain ``incidents``. Every method is one short synchronous call on the
loop thread, so each is atomic with respect to other coroutines; the ``WHERE`` on the
current state (triage step, step status) is what makes double clicks harmless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.model import Actor, MessageRef, Place
from bot.core.tenancy import tenant_of
from bot.storage.db import transaction

if TYPE_CHECKING:
    from sqlite_utils import Database

    from incidents.playbooks import Step

DOMAIN = "incidents"
MIGRATIONS = [
    """
    CREATE TABLE incident_sequence (
        year INTEGER PRIMARY KEY,
        last INTEGER NOT NULL
    );
    CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        drill INTEGER NOT NULL DEFAULT 0,
        platform TEXT,
        account TEXT,
        symptoms TEXT NOT NULL DEFAULT '[]',
        flags TEXT NOT NULL DEFAULT '[]',
        has_access INTEGER,
        harmful_live INTEGER,
        severity INTEGER,
        status TEXT NOT NULL DEFAULT 'triage',
        triage_step TEXT NOT NULL DEFAULT 'platform',
        reporter TEXT NOT NULL,
        reporter_name TEXT NOT NULL DEFAULT '',
        commander TEXT NOT NULL,
        commander_name TEXT NOT NULL DEFAULT '',
        department TEXT,
        summary TEXT,
        origin TEXT NOT NULL,
        card_id TEXT,
        room TEXT,
        checklist_id TEXT,
        team TEXT,
        acked_by TEXT,
        acked_by_name TEXT,
        created_at TEXT NOT NULL,
        triaged_at TEXT,
        acked_at TEXT,
        contained_at TEXT,
        closed_at TEXT
    );
    CREATE INDEX incidents_status ON incidents (status);
    CREATE TABLE incident_steps (
        incident_id TEXT NOT NULL REFERENCES incidents (id),
        step_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        phase TEXT NOT NULL,
        text TEXT NOT NULL,
        link TEXT,
        status TEXT NOT NULL DEFAULT 'open',
        by_key TEXT,
        by_name TEXT,
        at TEXT,
        reason TEXT,
        assignee TEXT,
        assignee_name TEXT,
        PRIMARY KEY (incident_id, step_id)
    );
    CREATE TABLE incident_events (
        id INTEGER PRIMARY KEY,
        incident_id TEXT NOT NULL REFERENCES incidents (id),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX incident_events_incident ON incident_events (incident_id, id)
    """,
    # Tenancy and need-to-know: each incident belongs to the tenant it was reported in
    # (``platform:workspace``, see bot.core.tenancy), and to its people. Existing incidents
    # get the tenant of their origin and, as people, their reporter, commander and
    # step assignees. The indexes serve the start limits (open triage, starts an hour).
    """
    ALTER TABLE incidents ADD COLUMN tenant TEXT;
    UPDATE incidents SET tenant =
        json_extract(origin, '$.platform') || ':' || json_extract(origin, '$.workspace');
    CREATE INDEX incidents_tenant ON incidents (tenant, status);
    CREATE INDEX incidents_tenant_created ON incidents (tenant, created_at);
    CREATE INDEX incidents_reporter ON incidents (reporter, status, created_at);
    CREATE TABLE incident_people (
        incident_id TEXT NOT NULL REFERENCES incidents (id),
        person TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL,
        added_by TEXT,
        added_at TEXT NOT NULL,
        PRIMARY KEY (incident_id, person)
    );
    INSERT OR IGNORE INTO incident_people (incident_id, person, name, role, added_at)
        SELECT id, reporter, reporter_name, 'reporter', created_at FROM incidents;
    INSERT OR IGNORE INTO incident_people (incident_id, person, name, role, added_at)
        SELECT id, commander, commander_name, 'commander', created_at FROM incidents;
    INSERT OR IGNORE INTO incident_people (incident_id, person, name, role, added_at)
        SELECT s.incident_id, s.assignee, COALESCE(s.assignee_name, ''), 'assignee',
               i.created_at
        FROM incident_steps s JOIN incidents i ON i.id = s.incident_id
        WHERE s.assignee IS NOT NULL
    """,
    # The delivery (a /compromised) that started an incident: a delivery replayed after a
    # crash finds its incident instead of starting a second one.
    """
    ALTER TABLE incidents ADD COLUMN delivery_key TEXT;
    CREATE UNIQUE INDEX incidents_delivery ON incidents (delivery_key)
        WHERE delivery_key IS NOT NULL
    """,
]

OPEN = ("triage", "containing", "recovering", "monitoring")
BOT = Actor("bot", "secbot", "secbot")
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class StartLimits:
    """Limits against abuse on starting incidents (drills count too)."""

    max_open_triage: int = 3  # incidents a person started that are still in triage
    per_user_hour: int = 5  # incidents a person may start in any hour
    per_workspace_hour: int = 20  # incidents a workspace or tenant may start in any hour


class StartRefused(Exception):
    """A start limit was reached: ``kind`` is open_triage, user_rate or workspace_rate."""

    def __init__(self, kind: str, limit: int, open_ids: list[str] | None = None):
        super().__init__(kind)
        self.kind = kind
        self.limit = limit
        self.open_ids = open_ids or []


def _place_json(place: Place | None) -> str | None:
    if place is None:
        return None
    return json.dumps(
        {
            "platform": place.platform,
            "workspace": place.workspace,
            "channel": place.channel,
            "is_direct": place.is_direct,
            "thread": place.thread,
        }
    )


def _place(text: str | None) -> Place | None:
    return Place(**json.loads(text)) if text else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Incident:
    id: str
    drill: bool
    platform: str | None
    account: str | None
    symptoms: tuple[str, ...]
    flags: tuple[str, ...]
    has_access: bool | None
    harmful_live: bool | None
    severity: int | None
    status: str
    triage_step: str
    reporter: str
    reporter_name: str
    commander: str
    commander_name: str
    department: str | None
    summary: str | None
    origin: Place
    card_id: str | None
    room: Place | None
    checklist_id: str | None
    team: str | None
    acked_by: str | None
    acked_by_name: str | None
    created_at: datetime
    triaged_at: datetime | None
    acked_at: datetime | None
    contained_at: datetime | None
    closed_at: datetime | None
    tenant: str = ""  # platform:workspace it belongs to (bot.core.tenancy.tenant_of)

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    @property
    def card(self) -> MessageRef | None:
        return MessageRef(self.origin, self.card_id) if self.card_id else None

    @property
    def checklist(self) -> MessageRef | None:
        if self.room is None or not self.checklist_id:
            return None
        return MessageRef(self.room, self.checklist_id)


@dataclass(frozen=True)
class StepState:
    incident_id: str
    step_id: str
    position: int
    phase: str
    text: str
    link: str | None
    status: str  # open | done | skipped
    by_key: str | None
    by_name: str | None
    at: datetime | None
    reason: str | None
    assignee: str | None
    assignee_name: str | None


@dataclass(frozen=True)
class Event:
    at: datetime
    actor: str
    actor_name: str
    kind: str
    text: str


def _incident(row: Any) -> Incident:
    r = dict(row)
    return Incident(
        id=r["id"],
        drill=bool(r["drill"]),
        platform=r["platform"],
        account=r["account"],
        symptoms=tuple(json.loads(r["symptoms"])),
        flags=tuple(json.loads(r["flags"])),
        has_access=None if r["has_access"] is None else bool(r["has_access"]),
        harmful_live=None if r["harmful_live"] is None else bool(r["harmful_live"]),
        severity=r["severity"],
        status=r["status"],
        triage_step=r["triage_step"],
        reporter=r["reporter"],
        reporter_name=r["reporter_name"],
        commander=r["commander"],
        commander_name=r["commander_name"],
        department=r["department"],
        summary=r["summary"],
        origin=_place(r["origin"]),  # type: ignore[arg-type]
        card_id=r["card_id"],
        room=_place(r["room"]),
        checklist_id=r["checklist_id"],
        team=r["team"],
        acked_by=r["acked_by"],
        acked_by_name=r["acked_by_name"],
        created_at=_time(r["created_at"]),  # type: ignore[arg-type]
        triaged_at=_time(r["triaged_at"]),
        acked_at=_time(r["acked_at"]),
        contained_at=_time(r["contained_at"]),
        closed_at=_time(r["closed_at"]),
        tenant=r["tenant"] or "",
    )


def _step(row: Any) -> StepState:
    r = dict(row)
    r["at"] = _time(r["at"])
    return StepState(**r)


class IncidentStore:
    def __init__(self, db: Database):
        self.db = db

    # --- the record -----------------------------------------------------------------

    def create(
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
        with transaction(self.db) as conn:
            if limits is not None:
                self._check_limits(conn, limits, reporter.key, tenant, now)
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
                    _place_json(origin),
                    now.isoformat(),
                    tenant,
                    delivery_key,
                ],
            )
            self._add_person(conn, incident_id, reporter.key, reporter.name, "reporter", None, now)
            self._event(conn, incident_id, now, reporter, "start", "Reported; triage started")
        found = self.get(incident_id)
        assert found is not None
        return found

    def for_delivery(self, delivery_key: str) -> Incident | None:
        """The incident a delivery started, if it did."""
        row = self.db.execute(
            "SELECT * FROM incidents WHERE delivery_key = ?", [delivery_key]
        ).fetchone()
        return _incident(row) if row else None

    def get(self, incident_id: str) -> Incident | None:
        row = self.db.execute(
            "SELECT * FROM incidents WHERE id = ?", [incident_id.strip().upper()]
        ).fetchone()
        return _incident(row) if row else None

    def _check_limits(
        self, conn: Any, limits: StartLimits, reporter: str, tenant: str, now: datetime
    ) -> None:
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

    def in_tenants(self, tenants: tuple[str, ...], *, open_only: bool = True) -> list[Incident]:
        """Incidents of these tenants (see bot.core.tenancy.tenants_of), oldest first."""
        marks = ", ".join("?" for _ in tenants)
        rows = self.db.execute(
            f"SELECT * FROM incidents WHERE tenant IN ({marks})"
            + (" AND status != 'closed'" if open_only else "")
            + " ORDER BY created_at, id",
            list(tenants),
        ).fetchall()
        return [_incident(r) for r in rows]

    # --- people -----------------------------------------------------------------------

    @staticmethod
    def _add_person(
        conn: Any,
        incident_id: str,
        person: str,
        name: str,
        role: str,
        added_by: str | None,
        now: datetime,
    ) -> bool:
        cur = conn.execute(
            "INSERT OR IGNORE INTO incident_people (incident_id, person, name, role, added_by,"
            " added_at) VALUES (?, ?, ?, ?, ?, ?)",
            [incident_id, person, name or "", role, added_by, now.isoformat()],
        )
        return cur.rowcount == 1

    def add_person(
        self, incident_id: str, person: str, name: str, role: str, added_by: str, now: datetime
    ) -> bool:
        """Make ``person`` (an actor key) one of the incident's people; False if already."""
        return self._add_person(self.db.conn, incident_id, person, name, role, added_by, now)

    def is_person(self, incident_id: str, person: str) -> bool:
        """Whether this actor key (``slack:U0123``) is on the incident's list of people."""
        row = self.db.execute(
            "SELECT 1 FROM incident_people WHERE incident_id = ? AND person = ?",
            [incident_id, person],
        ).fetchone()
        return row is not None

    def people(self, incident_id: str) -> list[tuple[str, str, str]]:
        """(person, name, role) in the order they were added."""
        rows = self.db.execute(
            "SELECT person, name, role FROM incident_people WHERE incident_id = ?"
            " ORDER BY added_at, rowid",
            [incident_id],
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def open_incidents(self) -> list[Incident]:
        rows = self.db.execute(
            "SELECT * FROM incidents WHERE status != 'closed' ORDER BY created_at, id"
        ).fetchall()
        return [_incident(r) for r in rows]

    def latest_open_in(self, place: Place) -> list[Incident]:
        """Open incidents started or run in this conversation, newest first. A Teams
        channel's threads (``19:…@thread.tacv2;messageid=…``) count as the channel."""

        def base(channel: str) -> str:
            return channel.split(";messageid=", 1)[0]

        found = []
        for inc in reversed(self.open_incidents()):
            for p in (inc.origin, inc.room):
                if (
                    p is not None
                    and p.platform == place.platform
                    and base(p.channel) == base(place.channel)
                ):
                    found.append(inc)
                    break
        return found

    def _set(self, incident_id: str, where: str = "", args: tuple = (), **values: Any) -> bool:
        cols = ", ".join(f"{k} = ?" for k in values)
        cur = self.db.execute(
            f"UPDATE incidents SET {cols} WHERE id = ? {where}",
            [*values.values(), incident_id, *args],
        )
        return cur.rowcount == 1

    def set_card(self, incident_id: str, card_id: str) -> None:
        self._set(incident_id, "AND card_id IS NULL", card_id=card_id)

    def set_room(self, incident_id: str, room: Place) -> None:
        self._set(incident_id, room=_place_json(room))

    def set_checklist(self, incident_id: str, message_id: str) -> None:
        self._set(incident_id, checklist_id=message_id)

    def set_team(self, incident_id: str, team: str) -> None:
        self._set(incident_id, team=team)

    def switch_team(self, incident_id: str, team: str) -> None:
        """Another team is paged now (the severity went up): it must acknowledge, so the
        acknowledgement is cleared. Earlier ones stay on the timeline."""
        self._set(incident_id, team=team, acked_by=None, acked_by_name=None, acked_at=None)

    def set_account(self, incident_id: str, account: str) -> None:
        self._set(incident_id, account=account)

    def set_commander(self, incident_id: str, key: str, name: str, now: datetime) -> None:
        with transaction(self.db) as conn:
            conn.execute(
                "UPDATE incidents SET commander = ?, commander_name = ? WHERE id = ?",
                [key, name, incident_id],
            )
            self._add_person(conn, incident_id, key, name, "commander", None, now)

    def set_severity(self, incident_id: str, severity: int) -> None:
        self._set(incident_id, severity=severity)

    def add_flag(self, incident_id: str, flag: str) -> bool:
        inc = self.get(incident_id)
        if inc is None or flag in inc.flags:
            return False
        return self._set(incident_id, flags=json.dumps([*inc.flags, flag]))

    # --- triage ---------------------------------------------------------------------

    def answer(self, incident_id: str, step: str, next_step: str, **values: Any) -> bool:
        """Record one answer if the triage is still at ``step``; False for a stale click."""
        return self._set(
            incident_id, "AND triage_step = ?", (step,), triage_step=next_step, **values
        )

    def set_symptom(self, incident_id: str, symptom: str, on: bool) -> bool:
        inc = self.get(incident_id)
        if inc is None or inc.triage_step != "symptoms":
            return False
        chosen = [s for s in inc.symptoms if s != symptom] + ([symptom] if on else [])
        return self._set(
            incident_id, "AND triage_step = 'symptoms'", symptoms=json.dumps(sorted(chosen))
        )

    def finish_triage(
        self,
        incident_id: str,
        *,
        harmful_live: bool,
        severity: int,
        steps: list[Step],
        actor: Actor,
        now: datetime,
    ) -> bool:
        """Close triage and snapshot the checklist, once: a second click returns False."""
        with transaction(self.db) as conn:
            cur = conn.execute(
                "UPDATE incidents SET triage_step = 'done', harmful_live = ?, severity = ?,"
                " status = 'containing', triaged_at = ? WHERE id = ? AND triage_step = 'harmful'",
                [int(harmful_live), severity, now.isoformat(), incident_id],
            )
            if cur.rowcount != 1:
                return False
            self._insert_steps(conn, incident_id, steps, 0)
            harmful = "yes" if harmful_live else "no"
            text = f"Harmful content live: {harmful}. Triage done: severity {severity}"
            self._event(conn, incident_id, now, actor, "triage", text)
        return True

    # --- checklist ------------------------------------------------------------------

    def _insert_steps(self, conn: Any, incident_id: str, steps: list[Step], start: int) -> int:
        added = 0
        for i, step in enumerate(steps, start=start):
            cur = conn.execute(
                "INSERT OR IGNORE INTO incident_steps (incident_id, step_id, position, phase,"
                " text, link) VALUES (?, ?, ?, ?, ?, ?)",
                [incident_id, step.id, i, step.phase, step.text.en, step.link],
            )
            added += cur.rowcount
        return added

    def add_steps(self, incident_id: str, steps: list[Step]) -> int:
        """Add steps not already on the checklist (severity raised, a flag added)."""
        start = self.db.execute(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM incident_steps WHERE incident_id = ?",
            [incident_id],
        ).fetchone()[0]
        with transaction(self.db) as conn:
            return self._insert_steps(conn, incident_id, steps, start)

    def steps(self, incident_id: str) -> list[StepState]:
        rows = self.db.execute(
            "SELECT * FROM incident_steps WHERE incident_id = ? ORDER BY position",
            [incident_id],
        ).fetchall()
        return [_step(r) for r in rows]

    def step(self, incident_id: str, step_id: str) -> StepState | None:
        row = self.db.execute(
            "SELECT * FROM incident_steps WHERE incident_id = ? AND step_id = ?",
            [incident_id, step_id],
        ).fetchone()
        return _step(row) if row else None

    def resolve_step(
        self,
        incident_id: str,
        step_id: str,
        status: str,
        actor: Actor,
        now: datetime,
        reason: str | None = None,
    ) -> bool:
        """Mark an open step done or skipped; False if it was already resolved."""
        cur = self.db.execute(
            "UPDATE incident_steps SET status = ?, by_key = ?, by_name = ?, at = ?, reason = ?"
            " WHERE incident_id = ? AND step_id = ? AND status = 'open'",
            [status, actor.key, actor.name, now.isoformat(), reason, incident_id, step_id],
        )
        return cur.rowcount == 1

    def assign_step(
        self, incident_id: str, step_id: str, key: str, name: str, now: datetime
    ) -> bool:
        """Give a step to someone, who becomes one of the incident's people."""
        with transaction(self.db) as conn:
            cur = conn.execute(
                "UPDATE incident_steps SET assignee = ?, assignee_name = ?"
                " WHERE incident_id = ? AND step_id = ?",
                [key, name, incident_id, step_id],
            )
            if cur.rowcount == 1:
                self._add_person(conn, incident_id, key, name, "assignee", None, now)
        return cur.rowcount == 1

    def advance_status(self, incident_id: str, now: datetime) -> str | None:
        """Move containing → recovering when every contain step is resolved, and
        recovering → monitoring when every recover step is; returns the new status."""
        inc = self.get(incident_id)
        if inc is None:
            return None
        steps = self.steps(incident_id)

        def resolved(phase: str) -> bool:
            return all(s.status != "open" for s in steps if s.phase == phase)

        changed = None
        if inc.status == "containing" and resolved("contain"):
            self._set(
                incident_id,
                "AND status = 'containing'",
                status="recovering",
                contained_at=now.isoformat(),
            )
            changed = "recovering"
        if (changed or inc.status) == "recovering" and resolved("recover"):
            self._set(incident_id, "AND status = 'recovering'", status="monitoring")
            changed = "monitoring"
        return changed

    # --- acknowledge and close --------------------------------------------------------

    def acknowledge(self, incident_id: str, actor: Actor, now: datetime) -> bool:
        return self._set(
            incident_id,
            "AND acked_at IS NULL",
            acked_by=actor.key,
            acked_by_name=actor.name,
            acked_at=now.isoformat(),
        )

    def close(self, incident_id: str, summary: str, now: datetime) -> bool:
        return self._set(
            incident_id,
            "AND status != 'closed'",
            status="closed",
            summary=summary,
            closed_at=now.isoformat(),
        )

    # --- timeline -------------------------------------------------------------------

    @staticmethod
    def _event(
        conn: Any, incident_id: str, now: datetime, actor: Actor, kind: str, text: str
    ) -> None:
        conn.execute(
            "INSERT INTO incident_events (incident_id, at, actor, actor_name, kind, text)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [incident_id, now.isoformat(), actor.key, actor.name or actor.user_id, kind, text],
        )

    def add_event(
        self, incident_id: str, now: datetime, actor: Actor, kind: str, text: str
    ) -> None:
        self._event(self.db.conn, incident_id, now, actor, kind, text[:1000])

    def events(self, incident_id: str) -> list[Event]:
        rows = self.db.execute(
            "SELECT at, actor, actor_name, kind, text FROM incident_events"
            " WHERE incident_id = ? ORDER BY id",
            [incident_id],
        ).fetchall()
        return [Event(datetime.fromisoformat(r[0]), r[1], r[2], r[3], r[4]) for r in rows]
