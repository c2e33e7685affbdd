"""One leader among the instances sharing a database, for once-per-cluster jobs.

The tip scheduler (and any job that must run once per cluster, not once per instance,
such as a daily prune) asks :attr:`Leadership.is_leader` before each round. Other work
is shared by leases (:mod:`bot.storage.leases`) and needs no leader.

- **PostgreSQL**: a session advisory lock, ``pg_try_advisory_lock``, held on a
  connection of its own for as long as this instance leads. When the leader dies its
  connection closes and the server frees the lock at once. A follower tries every
  :data:`TRY_SECONDS` on a connection it keeps for the purpose (one tiny query, no wait
  for a pooled connection while the instance is busy), so it takes over within about a
  second.
- **SQLite**: a lease row in ``leaders`` (several processes may share one file). The
  leader renews it every :data:`RENEW_SECONDS`; a follower reads it every
  :data:`TRY_SECONDS` (a read takes no write lock) and takes it once it is
  :data:`LEASE_SECONDS` old. A leader killed just after renewing is replaced within
  ``LEASE_SECONDS + TRY_SECONDS`` (4 s), well inside the 10 s the issue asks even when
  a loaded machine adds a second or two. With one process that process simply leads from
  its first round.

A clean stop gives leadership up at once (the row is released, the lock unlocked).
"""

from __future__ import annotations

import contextlib
import logging
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Table, Text, delete, func, literal, select
from sqlalchemy.exc import SQLAlchemyError

from bot.core.clock import Clock, SystemClock
from bot.storage.leases import new_instance
from bot.storage.sql import DB_ERRORS, UtcDateTime, dialect_name, execute, metadata, upsert
from bot.workers import Worker

log = logging.getLogger(__name__)

leaders = Table(
    "leaders",
    metadata,
    Column("name", Text, primary_key=True),  # what is led ("secbot": the cluster's jobs)
    Column("holder", Text, nullable=False),  # the leading instance (Services.instance)
    Column("lease_until", UtcDateTime, nullable=False),
)

# How long a leader's row lasts without renewal (SQLite). Short, because leadership must
# move within 10 s of the leader being killed (aim: 5 s on a loaded machine); long enough
# that two renewals can be late (a busy event loop, another process holding the write
# lock) before it lapses.
LEASE_SECONDS = 3.5
# How often the leader renews its row (SQLite) or checks its lock's connection
# (PostgreSQL): one small statement a second.
RENEW_SECONDS = 1.0
# How often a follower looks: a read of the row (SQLite) or one try of the lock on its own
# connection (PostgreSQL), so cheap that twice a second costs the database nothing.
TRY_SECONDS = 0.5
CLUSTER = "secbot"


class Leadership:
    """Whether this instance leads; tried and renewed on the one worker loop."""

    def __init__(
        self,
        db: Any,
        *,
        owner: str | None = None,
        clock: Clock | None = None,
        name: str = CLUSTER,
    ):
        self.db = db
        self.owner = owner or new_instance()
        self.clock: Clock = clock or SystemClock()
        self.name = name
        self._leading = False
        # When this instance last took the lead (wall-clock time, for /healthz): how soon
        # leadership moved, as the new leader saw it, whatever the observer's delays.
        self.since: datetime | None = None
        self._lock_conn: Any = None  # PostgreSQL: the connection holding the lock
        self._watchers: list[Callable[[], Any]] = []
        # Sleeps on the real clock whatever the app's clock: another process's leader
        # lapsing is real time passing.
        self.worker = Worker("leadership", self.step, every=RENEW_SECONDS)

    @property
    def is_leader(self) -> bool:
        """True while this instance leads: run once-per-cluster work now."""
        return self._leading

    def watch(self, callback: Callable[[], Any]) -> None:
        """Call ``callback()`` whenever this instance starts leading (wake a job)."""
        self._watchers.append(callback)

    def _set(self, leading: bool) -> None:
        if leading == self._leading:
            return
        self._leading = leading
        self.since = datetime.now(UTC) if leading else None
        log.info("this instance %s", "now leads" if leading else "no longer leads")
        if leading:
            for callback in self._watchers:
                callback()

    async def step(self) -> float:
        """One round: renew leadership, or try to take it; returns the seconds until the
        next (a follower looks more often than a leader renews)."""
        try:
            if dialect_name(self.db) == "postgresql":
                self._set(await self._advisory())
            else:
                self._set(await self._lease(self.clock.now()))
        except DB_ERRORS as e:
            log.warning("could not check leadership (%s); not leading meanwhile", type(e).__name__)
            self._set(False)
            await self._drop_lock_conn()
        return RENEW_SECONDS if self._leading else TRY_SECONDS

    async def _lease(self, now: datetime) -> bool:
        """Take or renew the row: one statement, which succeeds only if this instance
        holds it already or the holder's lease ran out. A follower reads the row first
        and writes only when the lease has run out (a read takes no write lock)."""
        if not self._leading:
            query = select(leaders.c.holder, leaders.c.lease_until).where(
                leaders.c.name == self.name
            )
            held = (await execute(self.db, query)).first()
            if held is not None and held.holder != self.owner and held.lease_until >= now:
                return False
        stmt = upsert(leaders).values(
            name=self.name, holder=self.owner, lease_until=now + timedelta(seconds=LEASE_SECONDS)
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[leaders.c.name],
            set_={"holder": stmt.excluded.holder, "lease_until": stmt.excluded.lease_until},
            where=(leaders.c.holder == self.owner) | (leaders.c.lease_until < now),
        )
        return (await execute(self.db, stmt)).rowcount == 1

    async def _advisory(self) -> bool:
        """PostgreSQL: hold ``pg_try_advisory_lock`` on a connection of our own, which a
        follower keeps too, to try again on (raises a database error if it broke: the
        next round opens another)."""
        conn = self._lock_conn
        if conn is not None and self._leading:
            try:
                await conn.execute(select(literal(1)))  # still connected, so still held
                await conn.commit()
                return True
            except DB_ERRORS:
                await self._drop_lock_conn()
                return False
        if conn is None:
            conn = self._lock_conn = await self.db.engine.connect()
        attempt = select(func.pg_try_advisory_lock(lock_key(self.name)))
        got = bool((await conn.execute(attempt)).scalar())
        await conn.commit()  # the session lock outlives the transaction
        return got

    async def _drop_lock_conn(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None:
            with contextlib.suppress(*DB_ERRORS, OSError):
                await conn.invalidate()

    async def release(self) -> None:
        """A clean stop: let another instance lead at once."""
        leading = self._leading
        self._set(False)
        if self._lock_conn is not None:
            conn = self._lock_conn
            self._lock_conn = None
            try:
                if leading:
                    await conn.execute(select(func.pg_advisory_unlock(lock_key(self.name))))
                await conn.close()
            except (SQLAlchemyError, OSError):
                # A connection a cancelled round left mid-transaction refuses statements
                # (PendingRollbackError): dropping it ends the session, and the session's
                # lock with it, so the next instance still leads at once.
                with contextlib.suppress(SQLAlchemyError, OSError):
                    await conn.invalidate()
            return
        if dialect_name(self.db) != "postgresql":
            with contextlib.suppress(*DB_ERRORS):
                await execute(
                    self.db,
                    delete(leaders).where(
                        leaders.c.name == self.name, leaders.c.holder == self.owner
                    ),
                )

    async def background(self, services: Any = None) -> AsyncIterator[None]:
        """For ``FeatureHost.add_background``: the first try happens before any later
        background job starts (so a single instance leads from its first round)."""
        await self.step()
        self.worker.start()
        try:
            yield
        finally:
            await self.worker.stop()
            await self.release()


def lock_key(name: str) -> int:
    """The advisory lock's key for ``name``: a signed 64-bit number, the same every run
    (distinct from :func:`bot.storage.sql.serialize`'s 32-bit transaction locks)."""
    return zlib.crc32(("leader:" + name).encode()) + 2**32
