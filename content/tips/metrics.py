"""Tip fan-out as Prometheus sees it, read from the tips store at scrape time: deliveries
by status (pending and sending are a fan-out in progress; failed and gone are failures)
and how many channels are subscribed. Labels are statuses only, never channels."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import func, select

from bot.metrics.registry import Metrics
from bot.storage.sql import execute
from content.tips.store.tables import tip_deliveries, tip_subscriptions


def add_tip_sources(metrics: Metrics, db) -> None:
    deliveries = metrics.gauge(
        "secbot_tip_deliveries", "Tip deliveries by status (pending, sending, sent, failed, ...).",
        ["status"],
    )  # fmt: skip
    subscribed = metrics.gauge(
        "secbot_tip_subscriptions", "Channels subscribed to tips (active ones).",
    )  # fmt: skip
    d = tip_deliveries.c
    by_status = select(d.status, func.count()).group_by(d.status)
    active = (
        select(func.count()).select_from(tip_subscriptions).where(tip_subscriptions.c.active == 1)
    )

    async def read_tips(now: datetime) -> None:
        rows = (await execute(db, by_status)).all()
        deliveries.clear()
        for status, count in cast(list[tuple[str, int]], rows):
            deliveries.labels(str(status)).set(int(count))
        subscribed.set(int((await execute(db, active)).scalar() or 0))

    metrics.add_source("tips", read_tips)
