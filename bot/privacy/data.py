"""Find, export and erase everything secbot holds about one person.

The tables and what happens to each are in ``bot.privacy.coverage``; this reads that
list against the shared ``metadata``, so a table whose feature is not loaded is skipped
and a new table is covered by adding one line there. A person is the one an admin picked
(never an id they typed): their platform, workspace and platform id, so rows keyed
``platform:id``, rows keyed by the bare id on that platform, their web chat direct
conversation and bodies that mention the id are all found. Matching is done in SQL and
checked again in Python, so an id that is a prefix of another (U1, U11) never matches
the other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, and_, delete, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import ColumnElement

from bot.privacy.coverage import HELD, Held
from bot.privacy.pseudonyms import erased_key, label
from bot.storage.sql import Db, atomic, execute, metadata


@dataclass(frozen=True)
class Person:
    platform: str
    workspace: str
    user_id: str
    name: str = ""

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Found:
    held: Held
    rows: list[dict[str, Any]]


def covered_tables() -> list[tuple[Held, Table]]:
    """The covered tables that exist in this secbot, in the order the list gives."""
    return [(h, metadata.tables[h.table]) for h in HELD.values() if h.table in metadata.tables]


def _mentions(text: object, user_id: str) -> bool:
    """The id as a whole word in a body (not as part of a longer id)."""
    pattern = rf"(?<![A-Za-z0-9_.:-]){re.escape(user_id)}(?![A-Za-z0-9_.-])"
    return isinstance(text, str) and re.search(pattern, text) is not None


def _own(held: Held, person: Person) -> bool:
    """Whether the table's bare ids, direct conversations and bodies are this platform's."""
    return not held.platform or held.platform == person.platform


def _where(held: Held, table: Table, person: Person) -> ColumnElement[bool] | None:
    conds: list[ColumnElement[bool]] = [table.c[k] == person.key for k, _ in held.people]
    if _own(held, person):
        conds += [table.c[c] == person.user_id for c in held.ids]
        if held.dm:
            conds.append(table.c[held.dm] == held.dm_prefix + person.user_id)
        conds += [table.c[c].contains(person.user_id, autoescape=True) for c in held.mentions]
    conds += [table.c[c].contains(person.user_id, autoescape=True) for c in held.chat_targets]
    dm = json.dumps(DM_PREFIX + person.user_id)  # as the JSON holds it, quotes and all
    conds += [table.c[c].contains(dm, autoescape=True) for c in held.places]
    return or_(*conds) if conds else None


# The web chat's direct conversation with a person is ``dm-<their id>``.
DM_PREFIX = "dm-"


def _swap(value: Any, key: str, theirs: str, yours: str | None, platform: str) -> bool:
    """Whether a JSON value holds, at any depth, a dict on ``platform`` whose ``key`` is
    ``theirs``; with ``yours`` (a pseudonymous key), also puts that in its place."""
    found = False
    if isinstance(value, dict):
        if value.get("platform") == platform and value.get(key) == theirs:
            found = True
            if yours is not None:
                value[key] = yours
        for inner in value.values():
            found = _swap(inner, key, theirs, yours, platform) or found
    elif isinstance(value, list):
        for inner in value:
            found = _swap(inner, key, theirs, yours, platform) or found
    return found


def _dm_place(value: Any, person: Person, replacement: str | None = None) -> bool:
    """Whether a JSON value holds a place (``Place.to_dict()``) that is the person's web
    chat direct conversation, at any depth; with ``replacement`` (a pseudonymous key),
    also puts it in the id's place."""
    yours = DM_PREFIX + replacement if replacement is not None else None
    return _swap(value, "channel", DM_PREFIX + person.user_id, yours, person.platform)


def _targets(value: Any, person: Person, replacement: str | None = None) -> bool:
    """Whether a JSON value holds a chat target naming the person (``{"platform": …,
    "user": …}`` at any depth); with ``replacement``, also puts it in their place."""
    return _swap(value, "user", person.user_id, replacement, person.platform)


def _load(text: object) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _matches(held: Held, row: dict[str, Any], person: Person) -> bool:
    if any(row[k] == person.key for k, _ in held.people):
        return True
    if any(_targets(_load(row[c]), person) for c in held.chat_targets):
        return True
    if any(_dm_place(_load(row[c]), person) for c in held.places):
        return True
    if not _own(held, person):
        return False
    if any(row[c] == person.user_id for c in held.ids):
        return True
    if held.dm and row[held.dm] == held.dm_prefix + person.user_id:
        return True
    if held.only and not row[held.only]:
        return False
    return any(_mentions(row[c], person.user_id) for c in held.mentions)


class PersonalData:
    def __init__(self, db: Db):
        self.db = db

    async def _rows(self, held: Held, table: Table, person: Person) -> list[dict[str, Any]]:
        if held.through:
            return await self._rows_through(held.through, table, person)
        cond = _where(held, table, person)
        if cond is None:
            return []
        result = (await execute(self.db, select(table).where(cond))).all()
        rows = [dict(r._mapping) for r in result]
        return [r for r in rows if _matches(held, r, person)]

    async def _rows_through(
        self, through: tuple[str, str], table: Table, person: Person
    ) -> list[dict[str, Any]]:
        """Rows pointing at the person's rows of another covered table (``through``)."""
        column, parent = through
        if parent not in metadata.tables or parent not in HELD:
            return []
        parent_table = metadata.tables[parent]
        (pk,) = parent_table.primary_key.columns
        ids = [r[pk.name] for r in await self._rows(HELD[parent], parent_table, person)]
        if not ids:
            return []
        result = (await execute(self.db, select(table).where(table.c[column].in_(ids)))).all()
        return [dict(r._mapping) for r in result]

    async def find(self, person: Person) -> list[Found]:
        """Every covered table's rows about the person (tables with none left out)."""
        found = []
        for held, table in covered_tables():
            rows = await self._rows(held, table, person)
            if rows:
                found.append(Found(held, rows))
        return found

    async def export(self, person: Person, now: datetime, audit_entries: Iterable[Any] = ()) -> str:
        """Everything held about them, as a JSON document (UTC times, ISO 8601).
        ``audit_entries``: the audit log's entries by them or about them (by pseudonym),
        which the audit log finds itself."""
        found = [f for f in await self.find(person) if f.held.table != "audit_log"]
        entries = [asdict(e) for e in audit_entries]
        if entries:
            found.append(Found(HELD["audit_log"], entries))
        doc = {
            "person": {
                "platform": person.platform,
                "workspace": person.workspace,
                "id": person.user_id,
                "name": person.name,
            },
            "exported_at": now.isoformat(),
            "tables": {
                f.held.table: {
                    "what": f.held.what,
                    "on_erasure": ON_ERASURE[f.held.erase],
                    "rows": f.rows,
                }
                for f in found
            },
        }
        return json.dumps(doc, indent=2, ensure_ascii=False, default=_json_value)

    async def erase(self, person: Person, key: bytes) -> list[tuple[Held, int]]:
        """Delete what is about them and put a pseudonym in their place in incident
        records, all in one transaction; returns how many rows each table had."""
        pseudonym = label(key, person.workspace, person.key)
        code_key = erased_key(key, person.workspace, person.key)
        done: list[tuple[Held, int]] = []
        async with atomic(self.db):
            found = await self.find(person)
            names = _names(found, person)
            incidents = _incidents(found)
            for f in found:
                table = metadata.tables[f.held.table]
                if f.held.erase == "delete":
                    for row in f.rows:
                        await execute(self.db, delete(table).where(_pk(table, row)))
                elif f.held.erase == "pseudonymise":
                    for row in f.rows:
                        values = _pseudonymised(f.held, row, person, names, pseudonym, code_key)
                        if values:
                            change = update(table).where(_pk(table, row)).values(values)
                            await execute(self.db, change)
                done.append((f.held, len(f.rows)))
            await self._scrub_texts(incidents, names, pseudonym)
        return done

    async def _scrub_texts(self, incidents: set[str], names: set[str], pseudonym: str) -> None:
        """Their names in the free text of incidents they were part of (a timeline line
        someone else wrote: "Handed over to Alex Example")."""
        if not incidents or not names:
            return
        for held, table in covered_tables():
            if held.erase != "pseudonymise" or not held.texts:
                continue
            column = table.c.get("incident_id") if held.table != "incidents" else table.c.id
            if column is None:
                continue
            query = select(table).where(column.in_(sorted(incidents)))
            for r in (await execute(self.db, query)).all():
                row = dict(r._mapping)
                values = {c: _replace(row[c], names, pseudonym) for c in held.texts}
                values = {c: v for c, v in values.items() if v != row[c]}
                if values:
                    await execute(self.db, update(table).where(_pk(table, row)).values(values))


ON_ERASURE = {
    "delete": "deleted",
    "pseudonymise": "kept, with a pseudonym in place of the person",
    "keep": "kept unchanged (the audit log cannot be changed)",
}


def _json_value(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def names_in(found: Iterable[Found], person: Person) -> list[str]:
    """The names the records give the person, for telling an admin who they picked when
    the platform no longer knows them (someone who has left)."""
    return sorted(_names(found, person))


def _names(found: Iterable[Found], person: Person) -> set[str]:
    """The names the records give them (at least two letters: a shorter one would match
    inside other words)."""
    names = {person.name}
    for f in found:
        for row in f.rows:
            for key_col, name_col in f.held.people:
                if name_col and row[key_col] == person.key:
                    names.add(row[name_col] or "")
    return {n for n in names if len(n.strip()) >= 2}


def _incidents(found: Iterable[Found]) -> set[str]:
    ids: set[str] = set()
    for f in found:
        if f.held.erase != "pseudonymise":
            continue
        for row in f.rows:
            if f.held.table == "incidents":
                ids.add(row["id"])
            elif row.get("incident_id"):
                ids.add(str(row["incident_id"]))
    return ids


def _pk(table: Table, row: dict[str, Any]) -> ColumnElement[bool]:
    return and_(*(c == row[c.name] for c in table.primary_key.columns))


def _replace(text: object, names: set[str], pseudonym: str) -> object:
    """Each name, as written and as a JSON string holds it, replaced by the pseudonym."""
    if not isinstance(text, str):
        return text
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, pseudonym)
        escaped = json.dumps(name)[1:-1]
        if escaped != name:
            text = text.replace(escaped, pseudonym)
    return text


def _pseudonymised(
    held: Held,
    row: dict[str, Any],
    person: Person,
    names: set[str],
    pseudonym: str,
    code_key: str,
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key_col, name_col in held.people:
        if row[key_col] == person.key:
            values[key_col] = code_key
            if name_col:
                values[name_col] = pseudonym
    for c in held.names:
        if row[c] in names:
            values[c] = pseudonym
    for c in held.mentions:
        if _mentions(row[c], person.user_id):
            values[c] = row[c].replace(json.dumps(person.user_id), json.dumps(code_key))
    for c in held.chat_targets:
        doc = _load(row[c])
        if _targets(doc, person, code_key):
            values[c] = json.dumps(doc)
    for c in held.places:
        doc = _load(row[c])
        if _dm_place(doc, person, code_key):
            values[c] = json.dumps(doc)
    for c in held.texts:
        text = values.get(c, row[c])
        replaced = _replace(text, names, pseudonym)
        if replaced != text:
            values[c] = replaced
    return values


def counts(found: Iterable[Found]) -> list[tuple[Held, int]]:
    return [(f.held, len(f.rows)) for f in found]


def describe(items: Iterable[tuple[Held, int]]) -> list[str]:
    """Plain lines for a confirmation or a summary: "12 quiz answers: deleted"."""
    return [f"{n} × {held.what}: {ON_ERASURE[held.erase]}" for held, n in items]


__all__ = ["Person", "PersonalData", "Found", "Row", "counts", "describe", "names_in"]
