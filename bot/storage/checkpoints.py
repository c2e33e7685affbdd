"""SQLite's write-ahead log copied back into the file by a background worker, not by
whichever commit happens to cross the threshold.

In WAL mode every commit appends to the log, and the log is copied back into the
database file by a *checkpoint*, which also syncs the file to disk. SQLite's default
runs one inside the commit that finds the log over 1,000 pages, holding the write lock
meanwhile: under a burst of Slack deliveries that was a wait of tens of milliseconds for
every acknowledgement queued behind it, once or twice a second. Here a worker runs a
PASSIVE checkpoint (it neither waits for nor blocks readers and writers) every
:data:`EVERY_SECONDS` on one of the pool's connections (with nothing new in the log it
costs one trip to aiosqlite's thread), and the connections' automatic
checkpoint is left only as a safety net (``bot.storage.db.AUTO_CHECKPOINT_PAGES``).
PostgreSQL has nothing of the kind to do here.
"""

from __future__ import annotations

import logging

from bot.storage.db import checkpoint
from bot.storage.sql import DB_ERRORS, Db

log = logging.getLogger(__name__)

# How often the log is looked at. A PASSIVE checkpoint of a log with nothing new costs
# one trip to aiosqlite's thread; one of half a second's writes, a few milliseconds in
# that thread, none of them holding the write lock.
EVERY_SECONDS = 0.5


class Checkpointer:
    def __init__(self, db: Db):
        self.db = db
        self.rounds = 0  # checkpoints run (tests and operators)
        self.copied = 0  # log frames this worker saw copied back into the file

    async def step(self) -> float | None:
        """One round (``bot.workers.Worker``, every :data:`EVERY_SECONDS`)."""
        try:
            _, done = await checkpoint(self.db)
        except DB_ERRORS as e:
            log.warning("could not checkpoint the SQLite log (%s)", type(e).__name__)
            return None
        self.rounds += 1
        self.copied += max(done, 0)
        return None
