"""Kept Slack deliveries that failed: counting tries, dead letters, and retention.

A delivery that keeps failing is not tried at every start for ever: each try is counted
(a replay before it starts, so one that kills the process every time counts too), and
after ``max_attempts`` tries, or once it has failed and is older than ``max_age``, it moves
to the dead letters (``bot/storage/dead_letters.py``) for an admin to retry or drop. A body
that waits for another try loses its tokens first (``bot.adapters.slack.scrub``). Kept
bodies and dead letters are deleted after the retention period.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.adapters.slack.scrub import describe, scrub
from bot.core.clock import Clock
from bot.storage.dead_letters import DeadLetters
from bot.storage.inbox import Inbox, Kept
from bot.storage.sql import DB_ERRORS
from bot.workers import Worker

log = logging.getLogger(__name__)

# A delivery that keeps failing is tried at most this many times (counting each start
# that replays it), or until it is this old, then moved to the dead letters.
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_AGE_HOURS = 24.0
# Kept bodies and dead letters are deleted after this many days.
DEFAULT_RETENTION_DAYS = 7
HOUSEKEEPING_SECONDS = 60 * 60
# The error recorded when a replay starts: still there at the next start, it means the
# process stopped during that try.
INTERRUPTED = "interrupted"


class FailedDeliveries:
    def __init__(
        self,
        inbox: Inbox,
        clock: Clock,
        *,
        max_attempts: int,
        max_age: timedelta,
        retention: timedelta,
        taken: Callable[[], set[int]],
        owner: str,
    ):
        self.inbox = inbox
        self.dead = DeadLetters(inbox.db)
        self.clock = clock
        self.max_attempts = max_attempts
        self.max_age = max_age
        self.retention = retention
        # the ids this instance is handling now
        self.taken = taken
        self.owner = owner  # this instance's name on the rows it holds

    async def begin_replay(self, row: Kept) -> bool:
        """Count a replay as an attempt before it starts, so a delivery that kills the
        process every time is still tried only ``max_attempts`` times. False if it has had
        them all and the last one never finished (it is moved to the dead letters)."""
        if row.attempts >= self.max_attempts and row.last_error in (None, INTERRUPTED):
            await self.bury(row, "the process stopped while handling it")
            return False
        await self.inbox.attempted(row.id, INTERRUPTED, count=True, payload=None)
        return True

    async def failed(self, row: Kept, error: str, *, counted: bool) -> None:
        """A try failed: record it (the body loses its tokens now: it waits for a later
        try, no longer for an answer within seconds), and give up once it has had
        ``max_attempts`` tries or is older than the age limit."""
        try:
            attempts = await self.inbox.attempted(
                row.id, error, count=not counted, payload=scrub(row.kind, row.payload)
            )
            if attempts >= self.max_attempts or self._older(row.received_at, self.max_age):
                await self.bury(row, error)
                return
        except DB_ERRORS as e:
            log.error("could not record a failed Slack delivery: %s", e)
            return
        log.error(
            "a kept Slack delivery (%s) was not handled (%s, attempt %d of %d); it stays "
            "kept and the next start tries it again",
            row.kind,
            error,
            attempts,
            self.max_attempts,
        )

    async def bury(self, row: Kept, error: str | None) -> None:
        """Move a kept delivery to the dead letters, its body scrubbed."""
        found = await self.inbox.get(row.id)
        payload = found.payload if found else row.payload
        letter = await self.dead.bury(
            row.id,
            what=describe(row.kind, payload),
            error=error or "unknown",
            payload=scrub(row.kind, payload),
            now=self.clock.now(),
        )
        if letter is not None:
            log.error(
                "a Slack delivery (%s) kept failing (%s); moved to the dead letters as #%d",
                describe(row.kind, payload),
                error or "unknown",
                letter,
            )

    def _older(self, received_at: datetime, age: timedelta) -> bool:
        return self.clock.now() - received_at > age

    async def housekeeping(self) -> tuple[int, int, int]:
        """Move failed deliveries older than the age limit to the dead letters, and delete
        kept bodies and dead letters older than the retention period. Rows being handled
        right now are left alone. Returns (buried, deleted kept, deleted dead letters)."""
        now = self.clock.now()
        busy = self.taken()
        buried = 0
        # Only rows this instance holds: the others are about to be handled, or are
        # another instance's to tidy.
        for entry in await self.inbox.failed_before("slack", now - self.max_age, self.owner):
            if entry in busy:
                continue
            found = await self.inbox.get(entry)
            if found is not None:
                await self.bury(found, found.last_error)
                buried += 1
        deleted = await self.inbox.delete_before("slack", now - self.retention, busy, self.owner)
        pruned = await self.dead.prune(now - self.retention)
        return buried, deleted, pruned

    def housekeeping_worker(self) -> Worker:
        """Tidy now, then every hour, until the intake stops (a ``bot.workers.Worker``)."""

        async def tidy() -> None:
            try:
                buried, deleted, pruned = await self.housekeeping()
            except DB_ERRORS as e:
                log.warning("could not tidy the Slack inbox: %s", e)
            else:
                if deleted or pruned:
                    log.info(
                        "deleted %d kept Slack deliveries and %d dead letters past the "
                        "retention period",
                        deleted,
                        pruned,
                    )

        return Worker("slack-housekeeping", tidy, every=HOUSEKEEPING_SECONDS, clock=self.clock)
