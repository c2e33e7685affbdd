"""Deliveries acknowledged but not yet handled, kept so a crash cannot lose them.

Slack gets its acknowledgement before the work is done (it allows three seconds).
The delivery is written here first and removed once handled. An instance handling a
row holds a lease on it (``bot/storage/leases.py``); a row whose holder died is taken over
by whichever instance claims next once the lease runs out, and handled as a replay.

Two shapes of row: ``http`` rows hold the verified request body exactly as Slack sent
it (the front door keeps it before anything parses it, so even a body our code cannot
read is kept, not lost); the other kinds (``command``, ``action``, ``view``, ``event``)
hold a parsed payload, as Socket Mode delivers it.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import (
    Column,
    Index,
    Integer,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.sql.dml import Insert

from bot.storage.batched import hot_writer
from bot.storage.leases import (
    claim_params,
    claim_statement,
    lease_columns,
    release_statement,
    renew_params,
    renew_statement,
)
from bot.storage.one_trip import write_first
from bot.storage.sql import Db, UtcDateTime, atomic, execute, inserted_id, metadata

inbox = Table(
    "inbox",
    metadata,
    # AUTOINCREMENT: the consumer reads rows newer than the last it took, so an id must
    # never be handed out again once the table is empty.
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    # How often a kept delivery was tried, and what went wrong last (an error class,
    # never text), so one that keeps failing moves to the dead letters.
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    # Which instance handles the row, until when (bot/storage/leases.py), and how often
    # one claimed it: a second claim means the first claimer died with it in hand.
    *lease_columns(),
    Column("claims", Integer, nullable=False, server_default="0"),
    Index("inbox_source", "source", "id"),
    sqlite_autoincrement=True,
)

RAW = "http"
# Ids per DELETE (well under SQLite's limit on bound parameters).
_MANY = 500

# Built once: the acknowledging path keeps every Slack request with this.
_ADD = insert(inbox)
_KEPT = (
    inbox.c.id,
    inbox.c.kind,
    inbox.c.payload,
    inbox.c.received_at,
    inbox.c.attempts,
    inbox.c.last_error,
    inbox.c.claims,
)


# The consumer's claim: the oldest kept rows nobody handles now (bot/storage/leases.py).
_CLAIM = claim_statement(
    inbox,
    inbox.c.source == bindparam("from_source"),
    (inbox.c.id,),
    _KEPT,
    claims=inbox.c.claims + 1,
)
_RENEW = renew_statement(inbox)
# Rows per INSERT of kept bodies (4 bound values a row, well under SQLite's limit).
_KEEP_CHUNK = 128


@lru_cache(maxsize=_KEEP_CHUNK)
def _keep_rows(n: int) -> Insert:
    """``INSERT INTO inbox ... VALUES (...), ...`` for ``n`` rows, built (and compiled)
    once per size: one statement, so it commits as one without a transaction around it."""
    return insert(inbox).values(
        [
            {
                "source": bindparam("source"),
                "kind": bindparam("kind"),
                "payload": bindparam(f"p{i}"),
                "received_at": bindparam(f"r{i}", type_=UtcDateTime()),
            }
            for i in range(n)
        ]
    )
_RELEASE = release_statement(inbox)


class Kept(NamedTuple):
    id: int
    kind: str
    payload: str  # as text
    received_at: datetime
    attempts: int
    last_error: str | None
    claims: int  # how often an instance claimed it (more than once: a replay)


class Inbox:
    def __init__(self, db: Db):
        self.db = db
        # Handled rows are deleted together, one statement per event-loop turn: under a
        # burst, a commit per row cost more than the rest of the consumer's work.
        self._removals = hot_writer(db)

    async def add(self, source: str, kind: str, payload: dict, now: datetime) -> int:
        return await self.add_raw(source, kind, json.dumps(payload), now)

    async def add_raw(self, source: str, kind: str, payload: str, now: datetime) -> int:
        """Keep a delivery as text; one short autocommit INSERT on the acknowledging path."""
        params = {"source": source, "kind": kind, "payload": payload, "received_at": now}
        return inserted_id(await execute(self.db, _ADD, params))

    async def insert_many(self, source: str, kind: str, rows: list[tuple[str, datetime]]) -> None:
        """Keep several deliveries, inside the caller's transaction (one commit for all)."""
        if rows:
            params = [
                {"source": source, "kind": kind, "payload": payload, "received_at": now}
                for payload, now in rows
            ]
            await execute(self.db, _ADD, params)

    async def keep(self, source: str, kind: str, rows: list[tuple[str, datetime]]) -> None:
        """Keep deliveries a front door is about to acknowledge; returns once they have
        committed. Each chunk is one multi-row INSERT that commits by itself, ahead of
        the handling side's transactions and, on SQLite, in one trip to its thread
        (``bot.storage.one_trip.write_first``). On PostgreSQL one executemany of one
        prepared statement (a multi-row INSERT of each size would be prepared anew)."""
        if self.db.dialect != "sqlite":
            await self.insert_many(source, kind, rows)
            return
        if len(rows) > _KEEP_CHUNK:
            # More than one statement's worth: one transaction, so a failure part-way
            # leaves nothing committed (the writer then keeps each delivery on its own,
            # and none is kept twice).
            async with atomic(self.db):
                await self.insert_many(source, kind, rows)
            return
        params: dict[str, object] = {"source": source, "kind": kind}
        for i, (payload, now) in enumerate(rows):
            params[f"p{i}"] = payload
            params[f"r{i}"] = now
        await write_first(self.db, _keep_rows(len(rows)), params)

    async def remove(self, entry_id: int) -> None:
        """Forget a handled row; returns once the deletion has committed."""
        await self._removals.submit(entry_id, group=self._remove_many)

    async def _remove_many(self, ids: list[int]) -> list[None]:
        for start in range(0, len(ids), _MANY):
            await execute(self.db, delete(inbox).where(inbox.c.id.in_(ids[start : start + _MANY])))
        return [None] * len(ids)

    async def after(self, source: str, after_id: int, limit: int) -> list[Kept]:
        """Up to ``limit`` kept rows newer than ``after_id``, oldest first (all if < 0)."""
        query = (
            select(*_KEPT)
            .where(inbox.c.source == source, inbox.c.id > after_id)
            .order_by(inbox.c.id)
            .limit(limit if limit >= 0 else None)
        )
        return [Kept._make(r) for r in (await execute(self.db, query)).all()]

    async def claim(self, source: str, now: datetime, limit: int, owner: str) -> list[Kept]:
        """Take up to ``limit`` kept rows that no live instance is handling, oldest first:
        one statement, so two instances never take the same row."""
        params = {**claim_params(now, limit, owner), "from_source": source}
        rows = (await execute(self.db, _CLAIM, params)).all()
        return sorted((Kept._make(r) for r in rows), key=lambda k: k.id)

    async def renew(self, now: datetime, owner: str) -> int:
        """Keep this instance's claims (rows in hand, and failed rows it keeps)."""
        return (await execute(self.db, _RENEW, renew_params(now, owner))).rowcount

    async def release(self, owner: str) -> int:
        """A clean stop: every row this instance holds is free for any instance now."""
        return (await execute(self.db, _RELEASE, {"lease_owner": owner})).rowcount

    async def holders(self, source: str) -> dict[str | None, int]:
        """How many kept rows each instance holds (None: not claimed), for operators."""
        stmt = (
            select(inbox.c.claimed_by, func.count())
            .where(inbox.c.source == source)
            .group_by(inbox.c.claimed_by)
        )
        return {r[0]: int(r[1]) for r in (await execute(self.db, stmt)).all()}

    async def get(self, entry_id: int) -> Kept | None:
        r = (await execute(self.db, select(*_KEPT).where(inbox.c.id == entry_id))).first()
        return Kept._make(r) if r else None

    async def attempted(
        self, entry_id: int, error: str, *, count: bool, payload: str | None
    ) -> int:
        """Record a failed (or, before a replay, an about-to-start) attempt; returns how many
        attempts the row has had (0: it is no longer kept). ``payload`` replaces the body
        (one with its tokens scrubbed: it waits for a later try now, no longer for an
        answer within seconds). One statement, so the count it returns is its own."""
        change = (
            update(inbox)
            .where(inbox.c.id == entry_id)
            .values(
                attempts=inbox.c.attempts + int(count),
                last_error=error,
                payload=func.coalesce(payload, inbox.c.payload),
            )
            .returning(inbox.c.attempts)
        )
        return int((await execute(self.db, change)).scalar() or 0)

    async def failed_before(self, source: str, before: datetime, owner: str) -> list[int]:
        """Rows ``owner`` holds, tried at least once and received before ``before``."""
        query = select(inbox.c.id).where(
            inbox.c.source == source,
            inbox.c.claimed_by == owner,
            inbox.c.attempts > 0,
            inbox.c.received_at < before,
        )
        return [int(r[0]) for r in (await execute(self.db, query)).all()]

    async def delete_before(self, source: str, before: datetime, keep: set[int], owner: str) -> int:
        """Forget rows ``owner`` holds received before ``before`` (the retention period),
        except ``keep``."""
        query = select(inbox.c.id).where(
            inbox.c.source == source, inbox.c.claimed_by == owner, inbox.c.received_at < before
        )
        ids = [int(r[0]) for r in (await execute(self.db, query)).all() if int(r[0]) not in keep]
        for start in range(0, len(ids), _MANY):
            chunk = ids[start : start + _MANY]
            await execute(self.db, delete(inbox).where(inbox.c.id.in_(chunk)))
        return len(ids)

    async def last_id(self, source: str) -> int:
        query = select(func.max(inbox.c.id)).where(inbox.c.source == source)
        return int((await execute(self.db, query)).scalar() or 0)

    async def pending(self, source: str) -> list[tuple[int, str, dict | str]]:
        """Every kept row: parsed payloads as dicts, ``http`` bodies as text."""
        return [
            (k.id, k.kind, k.payload if k.kind == RAW else json.loads(k.payload))
            for k in await self.after(source, 0, -1)
        ]
