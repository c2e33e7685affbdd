"""Details to and from a table row, and to and from JSON (a staged CSV import keeps its
parsed rows as JSON until someone confirms it)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from incidents.register.model import Access, Details, Person, handle_key, team_key


def account_values(details: Details) -> dict[str, Any]:
    """The ``register_accounts`` columns for these details."""
    owner = details.owner or Person("")
    return {
        "platform": details.platform,
        "handle": details.handle,
        "handle_key": handle_key(details.handle),
        "url": details.url,
        "team": details.team,
        "team_key": team_key(details.team),
        "owner_name": owner.name,
        "owner_id": owner.user_id,
        "owner_email": owner.email,
        "two_factor": details.two_factor,
        "recovery_email": details.recovery_email,
        "recovery_phone": details.recovery_phone,
        "recovery_holder": details.recovery_holder,
        "recovery_shared": details.recovery_shared,
        "verification": details.verification,
        "tools": json.dumps(list(details.tools)),
        "last_reviewed": details.last_reviewed,
    }


def access_values(account_id: int, details: Details) -> list[dict[str, Any]]:
    """The ``register_access`` rows: one per person (the first listing of a person wins)."""
    rows: dict[str, dict[str, Any]] = {}
    for position, access in enumerate(details.access):
        person = access.person
        rows.setdefault(
            person.key,
            {
                "account_id": account_id,
                "person_key": person.key,
                "position": position,
                "name": person.name,
                "user_id": person.user_id,
                "email": person.email,
                "role": access.role,
            },
        )
    return list(rows.values())


def details_of(row: Any, access_rows: list[Any]) -> Details:
    m = row._mapping
    owner = None
    if m["owner_name"] or m["owner_id"] or m["owner_email"]:
        owner = Person(m["owner_name"], m["owner_id"], m["owner_email"])
    ordered = sorted(access_rows, key=lambda r: r.position)
    return Details(
        platform=m["platform"],
        handle=m["handle"],
        url=m["url"],
        team=m["team"],
        owner=owner,
        access=tuple(Access(Person(r.name, r.user_id, r.email), r.role) for r in ordered),
        two_factor=m["two_factor"],
        recovery_email=m["recovery_email"],
        recovery_phone=m["recovery_phone"],
        recovery_holder=m["recovery_holder"],
        recovery_shared=bool(m["recovery_shared"]),
        verification=m["verification"],
        tools=tuple(json.loads(m["tools"] or "[]")),
        last_reviewed=m["last_reviewed"],
    )


def _person(data: dict[str, Any] | None) -> Person | None:
    if not data:
        return None
    return Person(data.get("name", ""), data.get("user_id", ""), data.get("email", ""))


def to_json(details: Details) -> dict[str, Any]:
    def person(p: Person | None) -> dict[str, str] | None:
        return None if p is None else {"name": p.name, "user_id": p.user_id, "email": p.email}

    return {
        **{k: v for k, v in account_values(details).items() if k not in _DERIVED},
        "owner": person(details.owner),
        "access": [{"person": person(a.person), "role": a.role} for a in details.access],
        "tools": list(details.tools),
        "last_reviewed": details.last_reviewed.isoformat() if details.last_reviewed else None,
    }


_DERIVED = {"handle_key", "team_key", "owner_name", "owner_id", "owner_email"}


def from_json(data: dict[str, Any]) -> Details:
    reviewed = data.get("last_reviewed")
    return Details(
        platform=data["platform"],
        handle=data["handle"],
        url=data.get("url", ""),
        team=data.get("team", ""),
        owner=_person(data.get("owner")),
        access=tuple(
            Access(_person(a["person"]) or Person(""), a.get("role", ""))
            for a in data.get("access", [])
        ),
        two_factor=data.get("two_factor", "unknown"),
        recovery_email=data.get("recovery_email", ""),
        recovery_phone=data.get("recovery_phone", ""),
        recovery_holder=data.get("recovery_holder", ""),
        recovery_shared=bool(data.get("recovery_shared", False)),
        verification=data.get("verification", "unknown"),
        tools=tuple(data.get("tools", [])),
        last_reviewed=date.fromisoformat(reviewed) if reviewed else None,
    )
