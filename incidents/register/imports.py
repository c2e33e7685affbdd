"""CSV imports waiting for their "Import" click (``register_imports``).

A shared CSV is parsed and its good rows kept here, not in the register: that is the dry
run. The click applies them with one claim (``UPDATE … SET applied_at WHERE applied_at
IS NULL``) in the same transaction as the writes, so a double click, a retried delivery
or a second process applies the rows once. Only the person who shared the file, in the
same tenant, can apply or discard it; anyone else is told the import is not there.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from bot.storage.sql import atomic, execute, inserted_id
from incidents.register.codec import from_json, to_json
from incidents.register.model import Details
from incidents.register.store import Applied, RegisterStore
from incidents.register.tables import register_imports

if TYPE_CHECKING:
    from bot.core.model import Actor
    from bot.storage.sql import Db

IMP = register_imports.c


class Imports:
    def __init__(self, db: Db, register: RegisterStore):
        self.db = db
        self.register = register

    async def stage(
        self, tenant: str, by: Actor, filename: str, rows: list[Details], now: datetime
    ) -> int:
        made = await execute(
            self.db,
            insert(register_imports).values(
                tenant=tenant,
                by_key=by.key,
                filename=filename,
                rows=json.dumps([to_json(d) for d in rows]),
                created_at=now,
            ),
        )
        return inserted_id(made)

    def _mine(self, staged: int, tenants: tuple[str, ...], by: Actor):  # noqa: ANN202
        return (IMP.id == staged) & IMP.tenant.in_(tenants) & (IMP.by_key == by.key)

    async def apply(
        self, staged: int, tenants: tuple[str, ...], by: Actor, now: datetime
    ) -> Applied | None:
        """The staged rows written to the register; None when there is no such import
        of this person's, or it was applied or discarded already."""
        async with atomic(self.db):
            claimed = await execute(
                self.db,
                update(register_imports)
                .where(self._mine(staged, tenants, by) & IMP.applied_at.is_(None))
                .values(applied_at=now),
            )
            if claimed.rowcount != 1:
                return None
            row = (
                await execute(self.db, select(IMP.tenant, IMP.rows).where(IMP.id == staged))
            ).first()
            assert row is not None
            rows = [from_json(r) for r in json.loads(row.rows)]
            return await self.register.apply(row.tenant, rows, by=by, now=now)

    async def discard(
        self, staged: int, tenants: tuple[str, ...], by: Actor, now: datetime
    ) -> bool:
        done = await execute(
            self.db,
            update(register_imports)
            .where(self._mine(staged, tenants, by) & IMP.applied_at.is_(None))
            .values(applied_at=now, rows="[]"),
        )
        return done.rowcount == 1
