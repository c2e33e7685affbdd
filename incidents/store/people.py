"""Who is on an incident (``incident_people``): what ``incidents.access`` checks."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database


def add_person_row(
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


class People:
    """The incident's people: reporter, commanders, assignees and those added."""

    def __init__(self, db: Database):
        self.db = db

    async def add(
        self, incident_id: str, person: str, name: str, role: str, added_by: str, now: datetime
    ) -> bool:
        """Make ``person`` (an actor key) one of the incident's people; False if already."""
        return add_person_row(self.db.conn, incident_id, person, name, role, added_by, now)

    async def has(self, incident_id: str, person: str) -> bool:
        """Whether this actor key (``slack:U0123``) is on the incident's list of people."""
        row = self.db.execute(
            "SELECT 1 FROM incident_people WHERE incident_id = ? AND person = ?",
            [incident_id, person],
        ).fetchone()
        return row is not None

    async def all(self, incident_id: str) -> list[tuple[str, str, str]]:
        """(person, name, role) in the order they were added."""
        rows = self.db.execute(
            "SELECT person, name, role FROM incident_people WHERE incident_id = ?"
            " ORDER BY added_at, rowid",
            [incident_id],
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    async def name_of(self, person: str) -> str:
        """The latest name recorded for this actor key on any incident (as a person on
        it, or as who acknowledged it); empty when none was."""
        row = self.db.execute(
            "SELECT name FROM (SELECT name, added_at AS at FROM incident_people"
            " WHERE person = ? AND name != ''"
            " UNION ALL SELECT acked_by_name, acked_at FROM incidents"
            " WHERE acked_by = ? AND COALESCE(acked_by_name, '') != '')"
            " ORDER BY at DESC LIMIT 1",
            [person, person],
        ).fetchone()
        return str(row[0]) if row else ""
