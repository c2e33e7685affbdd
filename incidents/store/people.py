"""Who is on an incident (``incident_people``): what ``incidents.access`` checks."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BindParameter, Select, bindparam, func, literal_column, select, union_all

from bot.storage.sql import execute, upsert
from incidents.store.tables import incident_people, incidents

if TYPE_CHECKING:
    from bot.storage.sql import Db

_p, _i = incident_people.c, incidents.c
_PERSON: BindParameter[str] = bindparam("person")
# Someone already on the incident keeps the role they came with.
_ADD = upsert(incident_people).on_conflict_do_nothing()
_HAS: Select[tuple[Any]] = select(literal_column("1")).where(
    (_p.incident_id == bindparam("incident_id")) & (_p.person == _PERSON)
)
_ALL = (
    select(_p.person, _p.name, _p.role)
    .where(_p.incident_id == bindparam("incident_id"))
    .order_by(_p.added_at, _p.person)
)
_named = union_all(
    select(_p.name.label("name"), _p.added_at.label("at")).where(
        (_p.person == _PERSON) & (_p.name != "")
    ),
    select(_i.acked_by_name, _i.acked_at).where(
        (_i.acked_by == _PERSON) & (func.coalesce(_i.acked_by_name, "") != "")
    ),
).subquery()
_LATEST_NAME = select(_named.c.name).order_by(_named.c.at.desc()).limit(1)


async def add_person_row(
    db: Db,
    incident_id: str,
    person: str,
    name: str,
    role: str,
    added_by: str | None,
    now: datetime,
) -> bool:
    """Put ``person`` on the incident (in the caller's ``atomic`` when it has one);
    False if they were on it already."""
    added = await execute(
        db,
        _ADD,
        {
            "incident_id": incident_id,
            "person": person,
            "name": name or "",
            "role": role,
            "added_by": added_by,
            "added_at": now,
        },
    )
    return added.rowcount == 1


class People:
    """The incident's people: reporter, commanders, assignees and those added."""

    def __init__(self, db: Db):
        self.db = db

    async def add(
        self, incident_id: str, person: str, name: str, role: str, added_by: str, now: datetime
    ) -> bool:
        """Make ``person`` (an actor key) one of the incident's people; False if already."""
        return await add_person_row(self.db, incident_id, person, name, role, added_by, now)

    async def has(self, incident_id: str, person: str) -> bool:
        """Whether this actor key (``slack:U0123``) is on the incident's list of people."""
        found = await execute(self.db, _HAS, {"incident_id": incident_id, "person": person})
        return found.first() is not None

    async def all(self, incident_id: str) -> list[tuple[str, str, str]]:
        """(person, name, role) in the order they were added."""
        rows = (await execute(self.db, _ALL, {"incident_id": incident_id})).all()
        return [(r.person, r.name, r.role) for r in rows]

    async def name_of(self, person: str) -> str:
        """The latest name recorded for this actor key on any incident (as a person on
        it, or as who acknowledged it); empty when none was."""
        name = (await execute(self.db, _LATEST_NAME, {"person": person})).scalar()
        return str(name) if name else ""
