"""What the core's stores hold, read at scrape time: the inbox, the dead letters, and
whether the database answers and takes a write (and how long that took)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import cast

from sqlalchemy import func, literal, select

from bot.metrics.registry import Metrics
from bot.storage.db import write_problem
from bot.storage.dead_letters import dead_letters
from bot.storage.inbox import inbox
from bot.storage.sql import DB_ERRORS, Db, execute


def add_core_sources(metrics: Metrics, db: Db) -> None:
    depth = metrics.gauge(
        "secbot_inbox_depth", "Deliveries kept in the inbox and not yet handled, by source.",
        ["source"],
    )  # fmt: skip
    oldest = metrics.gauge(
        "secbot_inbox_oldest_age_seconds",
        "Age of the oldest delivery still in the inbox (0 when it is empty), by source.",
        ["source"],
    )
    dead = metrics.gauge("secbot_dead_letters", "Deliveries given up on (/secbot deadletters).")
    ready = metrics.gauge(
        "secbot_database_ready", "1 when a small committed write works (as /readyz), else 0."
    )
    latency = metrics.gauge(
        "secbot_database_query_seconds", "How long a trivial query took at the last scrape."
    )
    write_latency = metrics.gauge(
        "secbot_database_write_seconds", "How long the readiness write took at the last scrape."
    )

    async def read_inbox(now: datetime) -> None:
        query = select(inbox.c.source, func.count(), func.min(inbox.c.received_at)).group_by(
            inbox.c.source
        )
        rows = (await execute(db, query)).all()
        depth.clear()
        oldest.clear()
        for source, count, first in cast(list[tuple[str, int, object]], rows):
            depth.labels(str(source)).set(int(count))
            age = (now - first).total_seconds() if isinstance(first, datetime) else 0.0
            oldest.labels(source).set(max(age, 0.0))

    async def read_dead_letters(now: datetime) -> None:
        count = (await execute(db, select(func.count()).select_from(dead_letters))).scalar()
        dead.set(int(count or 0))

    async def read_database(now: datetime) -> None:
        started = time.perf_counter()
        try:
            await execute(db, select(literal(1)))
        except DB_ERRORS:
            ready.set(0)
            raise
        latency.set(time.perf_counter() - started)
        started = time.perf_counter()
        problem = await write_problem(db)
        write_latency.set(time.perf_counter() - started)
        ready.set(1 if problem is None else 0)

    # The database first: if it is down, the readings after it fail and are counted.
    metrics.add_source("database", read_database)
    metrics.add_source("inbox", read_inbox)
    metrics.add_source("dead_letters", read_dead_letters)
