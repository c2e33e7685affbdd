"""Paging as Prometheus sees it, read from the paging store at scrape time.

Pages by provider and status (pending, sending, sent, failed, ...), the ones standing in
for a target that could not be reached (falling back), and escalation lag: how late the
oldest step still waiting is, and how late the last steps fired against when they were due.
Labels are providers and statuses only: no incident, person or target ids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import func, select

from bot.core import Services
from bot.metrics.registry import Metrics
from bot.storage.sql import execute
from incidents.paging.store.tables import paging_jobs, paging_outbox

# How many of the latest fired escalation steps the lag gauge looks at.
RECENT_STEPS = 50


def _at(value: object) -> datetime | None:
    """A stored time as an aware datetime (paging keeps ``…Z`` text today)."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def add_paging_metrics(services: Services) -> None:
    """Paging's gauges on the app's metrics (none when the app has no metrics)."""
    metrics = services.find_feature(Metrics)
    if metrics is not None:
        add_paging_sources(metrics, services.db)


def add_paging_sources(metrics: Metrics, db) -> None:
    pages = metrics.gauge(
        "secbot_pages", "Pages (trigger notifications) by provider and status.",
        ["provider", "status"],
    )  # fmt: skip
    fallbacks = metrics.gauge(
        "secbot_pages_fallback",
        "Pages sent in place of a target that could not be paged, by provider and status.",
        ["provider", "status"],
    )
    overdue = metrics.gauge(
        "secbot_escalation_overdue_seconds",
        "How long past its due time the oldest escalation step still waiting is (0: none).",
    )
    lag = metrics.gauge(
        "secbot_escalation_lag_seconds",
        f"The largest delay between due and fired over the last {RECENT_STEPS} escalation"
        " steps that fired.",
    )
    o = paging_outbox.c
    by_status = (
        select(o.provider, o.status, (o.fallback_for.is_not(None)).label("fallback"), func.count())
        .where(o.action == "trigger")
        .group_by(o.provider, o.status, "fallback")
    )
    j = paging_jobs.c
    oldest_waiting = select(func.min(j.due_at)).where(j.status == "pending")
    recent = (
        select(j.due_at, j.finished_at)
        .where(j.status == "done", j.finished_at.is_not(None))
        .order_by(j.finished_at.desc())
        .limit(RECENT_STEPS)
    )

    async def read_pages(now: datetime) -> None:
        rows = (await execute(db, by_status)).all()
        pages.clear()
        fallbacks.clear()
        totals: dict[tuple[str, str], int] = {}
        for provider, status, fallback, count in cast(list[tuple[str, str, bool, int]], rows):
            provider, status, count = str(provider), str(status), int(count)
            totals[(provider, status)] = totals.get((provider, status), 0) + count
            if fallback:
                fallbacks.labels(provider, status).set(count)
        for (provider, status), count in totals.items():
            pages.labels(provider, status).set(count)

    async def read_escalations(now: datetime) -> None:
        due = _at((await execute(db, oldest_waiting)).scalar())
        overdue.set(max((now - due).total_seconds(), 0.0) if due is not None else 0.0)
        delays = [
            (fired - due_at).total_seconds()
            for due_at, fired in ((_at(a), _at(b)) for a, b in (await execute(db, recent)).all())
            if due_at is not None and fired is not None
        ]
        lag.set(max([0.0, *delays]))

    metrics.add_source("pages", read_pages)
    metrics.add_source("escalations", read_escalations)
