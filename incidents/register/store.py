"""The register kept per tenant: the API reviews, leavers, training and posture use.

Every read takes the caller's tenants (``bot.core.tenancy.tenants_of(place)``, or one
tenant string) and never returns an account of another tenant, so an id typed in one
workspace is simply "not found" in another. Writes are atomic: an account and its
access list change together. Handles are unique per tenant and platform however they
are written (``model.handle_key``); adding one twice raises :class:`DuplicateAccount`.

The API (stable; h19-people builds on it):

- ``add(tenant, details, by=actor, now=…) -> Account``
- ``update(tenants, id, details, by=actor, now=…) -> Account | None``
- ``get(tenants, id)``, ``find(tenants, platform, handle)`` ``-> Account | None``,
  ``by_handle(tenants, handle) -> list[Account]`` (any platform)
- ``accounts(tenants, team=None) -> list[Account]`` (by team, platform, handle)
- ``for_person(tenants, user_id) -> list[Account]`` (owned or with access)
- ``teams(tenants) -> list[str]``, ``teams_of(tenants, user_id) -> list[str]``
- ``remove(tenants, id)``, ``remove_access(tenants, id, person_key)``,
  ``mark_reviewed(tenants, id, on)`` ``-> bool``
- ``apply(tenant, rows, by=actor, now=…) -> Applied`` (a confirmed CSV import)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, or_, select, update

from bot.storage.sql import atomic, execute, inserted_id
from incidents.register.codec import access_values, account_values, details_of
from incidents.register.model import Account, Details, handle_key, team_key
from incidents.register.tables import register_access, register_accounts

if TYPE_CHECKING:
    from bot.core.model import Actor
    from bot.storage.sql import Db

A = register_accounts.c
P = register_access.c


class DuplicateAccount(Exception):
    """That platform and handle are registered already in this tenant."""

    def __init__(self, existing: int):
        super().__init__("already registered")
        self.existing = existing


@dataclass(frozen=True)
class Applied:
    added: int
    updated: int


def _tenants(tenants: str | Iterable[str]) -> list[str]:
    return [tenants] if isinstance(tenants, str) else list(tenants)


class RegisterStore:
    def __init__(self, db: Db):
        self.db = db

    # --- reading ----------------------------------------------------------------------

    async def _load(self, where: Any) -> list[Account]:
        rows = (await execute(self.db, select(register_accounts).where(where))).all()
        if not rows:
            return []
        ids = [r.id for r in rows]
        people: dict[int, list[Any]] = {i: [] for i in ids}
        for chunk in range(0, len(ids), 500):
            query = select(register_access).where(P.account_id.in_(ids[chunk : chunk + 500]))
            for p in (await execute(self.db, query)).all():
                people[p.account_id].append(p)
        accounts = [
            Account(
                id=r.id,
                tenant=r.tenant,
                details=details_of(r, people[r.id]),
                created_at=r.created_at,
                updated_at=r.updated_at,
                updated_by=r.updated_by,
            )
            for r in rows
        ]
        return sorted(accounts, key=lambda a: (team_key(a.team), a.platform, handle_key(a.handle)))

    async def get(self, tenants: str | Iterable[str], account_id: int) -> Account | None:
        found = await self._load((A.id == account_id) & A.tenant.in_(_tenants(tenants)))
        return found[0] if found else None

    async def find(
        self, tenants: str | Iterable[str], platform: str, handle: str
    ) -> Account | None:
        found = await self._load(
            A.tenant.in_(_tenants(tenants))
            & (A.platform == platform)
            & (A.handle_key == handle_key(handle))
        )
        return found[0] if found else None

    async def by_handle(self, tenants: str | Iterable[str], handle: str) -> list[Account]:
        """Every account with this handle, on any platform."""
        return await self._load(
            A.tenant.in_(_tenants(tenants)) & (A.handle_key == handle_key(handle))
        )

    async def accounts(
        self, tenants: str | Iterable[str], *, team: str | None = None
    ) -> list[Account]:
        where: Any = A.tenant.in_(_tenants(tenants))
        if team is not None:
            where = where & (A.team_key == team_key(team))
        return await self._load(where)

    async def for_person(self, tenants: str | Iterable[str], user_id: str) -> list[Account]:
        """Every account the person owns or has access to (what a leaver can reach)."""
        if not user_id:
            return []
        with_access = select(P.account_id).where(P.user_id == user_id)
        return await self._load(
            A.tenant.in_(_tenants(tenants)) & or_(A.owner_id == user_id, A.id.in_(with_access))
        )

    async def teams(self, tenants: str | Iterable[str]) -> list[str]:
        query = select(A.team).where(A.tenant.in_(_tenants(tenants)), A.team != "")
        names = {team_key(str(t)): str(t) for (t,) in (await execute(self.db, query)).all()}
        return [names[k] for k in sorted(names)]

    async def teams_of(self, tenants: str | Iterable[str], user_id: str) -> list[str]:
        """The owning teams of the accounts a person owns or has access to: "their team"
        as far as the register knows."""
        names = {team_key(a.team): a.team for a in await self.for_person(tenants, user_id)}
        return [names[k] for k in sorted(names) if k]

    # --- writing ----------------------------------------------------------------------

    async def _clash(self, tenant: str, details: Details, not_id: int | None) -> int | None:
        query = select(A.id).where(
            A.tenant == tenant,
            A.platform == details.platform,
            A.handle_key == handle_key(details.handle),
        )
        if not_id is not None:
            query = query.where(A.id != not_id)
        return (await execute(self.db, query)).scalar()

    async def _write_access(self, account_id: int, details: Details) -> None:
        await execute(self.db, delete(register_access).where(P.account_id == account_id))
        rows = access_values(account_id, details)
        if rows:
            await execute(self.db, insert(register_access), rows)

    async def _insert(self, tenant: str, details: Details, by: Actor, now: datetime) -> int:
        made = await execute(
            self.db,
            insert(register_accounts).values(
                tenant=tenant,
                created_at=now,
                updated_at=now,
                updated_by=by.name,
                updated_by_key=by.key,
                **account_values(details),
            ),
        )
        account_id = inserted_id(made)
        await self._write_access(account_id, details)
        return account_id

    async def _change(self, account_id: int, details: Details, by: Actor, now: datetime) -> None:
        await execute(
            self.db,
            update(register_accounts)
            .where(A.id == account_id)
            .values(
                updated_at=now, updated_by=by.name, updated_by_key=by.key, **account_values(details)
            ),  # fmt: skip
        )
        await self._write_access(account_id, details)

    async def add(self, tenant: str, details: Details, *, by: Actor, now: datetime) -> Account:
        async with atomic(self.db):
            clash = await self._clash(tenant, details, None)
            if clash is not None:
                raise DuplicateAccount(clash)
            account_id = await self._insert(tenant, details, by, now)
        added = await self.get(tenant, account_id)
        assert added is not None
        return added

    async def update(
        self,
        tenants: str | Iterable[str],
        account_id: int,
        details: Details,
        *,
        by: Actor,
        now: datetime,
    ) -> Account | None:
        """The account with these details; None when the caller's tenants have no such
        account. Moving it onto a handle registered already raises DuplicateAccount."""
        async with atomic(self.db):
            query = select(A.tenant).where(A.id == account_id, A.tenant.in_(_tenants(tenants)))
            tenant = (await execute(self.db, query.with_for_update())).scalar()
            if tenant is None:
                return None
            clash = await self._clash(tenant, details, account_id)
            if clash is not None:
                raise DuplicateAccount(clash)
            await self._change(account_id, details, by, now)
        return await self.get(tenant, account_id)

    async def apply(
        self, tenant: str, rows: Sequence[Details], *, by: Actor, now: datetime
    ) -> Applied:
        """A confirmed import, all at once: a row whose platform and handle are
        registered already updates that account (so export, edit, import works), any
        other is added."""
        added = updated = 0
        async with atomic(self.db):
            for details in rows:
                existing = await self._clash(tenant, details, None)
                if existing is None:
                    await self._insert(tenant, details, by, now)
                    added += 1
                else:
                    await self._change(existing, details, by, now)
                    updated += 1
        return Applied(added, updated)

    async def remove(self, tenants: str | Iterable[str], account_id: int) -> bool:
        async with atomic(self.db):
            gone = await execute(
                self.db,
                delete(register_accounts).where(
                    A.id == account_id, A.tenant.in_(_tenants(tenants))
                ),
            )
            if gone.rowcount != 1:
                return False
            await execute(self.db, delete(register_access).where(P.account_id == account_id))
        return True

    async def remove_access(
        self, tenants: str | Iterable[str], account_id: int, person_key: str
    ) -> bool:
        """Take one person off an account's access list (a leaver, a review's Remove);
        False when they were not on it (a second click changes nothing)."""
        mine = select(A.id).where(A.id == account_id, A.tenant.in_(_tenants(tenants)))
        gone = await execute(
            self.db,
            delete(register_access).where(
                P.account_id == account_id, P.person_key == person_key, P.account_id.in_(mine)
            ),
        )
        return gone.rowcount == 1

    async def mark_reviewed(self, tenants: str | Iterable[str], account_id: int, on: date) -> bool:
        done = await execute(
            self.db,
            update(register_accounts)
            .where(A.id == account_id, A.tenant.in_(_tenants(tenants)))
            .values(last_reviewed=on),
        )
        return done.rowcount == 1
