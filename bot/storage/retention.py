"""The daily prune: what has passed its retention period is deleted, once a day, by one
instance, a batch at a time.

Each part of secbot that keeps personal data or records adds a :class:`Pruner` (what it
deletes, how long it keeps it, and a function that deletes at most ``limit`` rows older
than a cut-off). The core adds its own (delivery ids, web chat history) in the wiring;
a domain adds its own in its ``setup`` through ``services.find_feature(Retention)``.

Once a day every instance tries to claim the day's run: one row per job and day in
``retention_runs``, written by one statement that only the first claim makes (a claim
whose instance died, unfinished after :data:`STALE`, may be taken over). The instance
whose claim wrote the row prunes; the others wait for the next day. Deleting in batches
of :data:`BATCH` rows, with a turn of the event loop between them, keeps every statement
short: nothing waits long for the write lock, and the loop never stalls.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Date, Integer, Table, Text, delete, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from bot.storage.sql import DB_ERRORS, UtcDateTime, execute, metadata, upsert

if TYPE_CHECKING:
    from bot.core.clock import Clock

log = logging.getLogger(__name__)

JOB = "prune"
DAY_SECONDS = 24 * 60 * 60
# Rows per DELETE: small enough that one statement takes milliseconds.
BATCH = 500
# A claim not finished within this long was made by an instance that died mid-prune.
STALE = timedelta(hours=1)
# After midnight UTC, when the day's run starts (so instances' clocks need not agree to
# the second on which day it is).
AFTER_MIDNIGHT = timedelta(minutes=5)

retention_runs = Table(
    "retention_runs",
    metadata,
    Column("job", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("claimed_by", Text, nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("removed", Integer),
)
_r = retention_runs.c


class PruneFailed(Exception):
    """Some of the day's pruning failed (the message says what); it is tried again."""


Batch = Callable[[datetime, int], Awaitable[int]]


@dataclass(frozen=True)
class Pruner:
    """``batch(before, limit)`` deletes at most ``limit`` rows of ``what`` older than
    ``before`` (the run's time less ``keep``) and returns how many of ``what`` it deleted;
    it is called again until it deletes none."""

    what: str
    keep: timedelta
    batch: Batch


class Retention:
    """The pruners, and the once-a-day run across instances."""

    def __init__(self, db: Any, clock: Clock, *, batch: int = BATCH, job: str = JOB):
        self.db = db
        self.clock = clock
        self.batch = batch
        self.job = job
        self.instance = uuid.uuid4().hex
        self.pruners: list[Pruner] = []

    def add(self, pruner: Pruner) -> None:
        self.pruners.append(pruner)

    async def claim(self, day: date, now: datetime) -> bool:
        """True if this instance is the one to prune on ``day``."""
        params = {"job": self.job, "day": day, "claimed_by": self.instance, "claimed_at": now}
        return (await execute(self.db, _claim(now - STALE), params)).rowcount == 1

    async def run(self) -> dict[str, int] | None:
        """Today's prune, if this instance claims it: how many of each were deleted."""
        now = self.clock.now()
        day = now.astimezone(UTC).date()
        if not await self.claim(day, now):
            return None
        ours = (_r.job == self.job) & (_r.day == day) & (_r.claimed_by == self.instance)
        removed: dict[str, int] = {}
        failed: list[str] = []
        for pruner in self.pruners:
            try:
                removed[pruner.what] = await self._prune(pruner, now - pruner.keep)
                # Still alive: a long first prune is not taken for a dead one's.
                touch = retention_runs.update().where(ours).values(claimed_at=self.clock.now())
                await execute(self.db, touch)
            except DB_ERRORS as e:
                log.warning("could not prune %s: %s", pruner.what, type(e).__name__)
                failed.append(pruner.what)
        if failed:
            # The claim stays ours and unfinished: the worker's next try (after its
            # back-off) prunes again, and what was deleted already is not there to find.
            raise PruneFailed(", ".join(failed))
        done = (
            retention_runs.update()
            .where(ours)
            .values(finished_at=self.clock.now(), removed=sum(removed.values()))
        )
        await execute(self.db, done)
        for what, count in removed.items():
            if count:
                log.info("retention: deleted %d %s", count, what)
        return removed

    async def _prune(self, pruner: Pruner, before: datetime) -> int:
        total = 0
        while count := await pruner.batch(before, self.batch):
            total += count
            await asyncio.sleep(0)  # let everything else run between batches
        return total

    async def step(self) -> float:
        """One round of the worker (the wiring runs it as a ``bot.workers.Worker``): prune
        if today's run is ours, then wait for tomorrow's."""
        started = self.clock.now()
        await self.run()
        # From when this run started: a day that began while it ran is not skipped.
        wait = seconds_to_next_run(started) - (self.clock.now() - started).total_seconds()
        return max(0.0, wait)


def _claim(stale_before: datetime) -> Any:
    """Insert the day's row; or take over an unfinished one that is ours (a round that
    failed and is tried again) or whose claim is older than ``stale_before``. One
    statement, so of two instances claiming at once exactly one changes the row."""
    stmt = upsert(retention_runs)
    return stmt.on_conflict_do_update(
        index_elements=[_r.job, _r.day],
        set_={"claimed_by": stmt.excluded.claimed_by, "claimed_at": stmt.excluded.claimed_at},
        where=_r.finished_at.is_(None)
        & ((_r.claimed_by == stmt.excluded.claimed_by) | (_r.claimed_at < stale_before)),
    )


def seconds_to_next_run(now: datetime) -> float:
    """Seconds from ``now`` to a few minutes past the next midnight UTC."""
    today = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)
    target = today + AFTER_MIDNIGHT
    if target <= now:
        target += timedelta(days=1)
    return max(1.0, (target - now).total_seconds())


async def delete_some(db: Any, table: Table, where: ColumnElement[bool], limit: int) -> int:
    """Delete at most ``limit`` rows of ``table`` that match ``where`` (chosen by primary
    key, of one column or several): the same on SQLite and PostgreSQL, which have no
    common ``DELETE … LIMIT``. Returns how many were deleted."""
    key = list(table.primary_key.columns)
    chosen = select(*key).where(where).limit(limit)
    if len(key) == 1:
        gone = delete(table).where(key[0].in_(chosen.scalar_subquery()))
    else:
        gone = delete(table).where(tuple_(*key).in_(chosen))
    return (await execute(db, gone)).rowcount
