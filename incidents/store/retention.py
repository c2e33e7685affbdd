"""Closed incidents, and paging tools' callbacks, deleted once their retention ends.

A closed incident is deleted whole after ``SECBOT_KEEP_CLOSED_INCIDENTS``: its row and
every row of every table with an ``incident_id`` column (timeline, steps, people,
checklist, evidence list, takedowns, holding lines, timers, pages, callbacks), so no part
of it outlives the rest. Tables are found from the shared MetaData when the prune runs,
so a table added later is covered without a change here; a table that keeps its rows by
a rule of its own (the audit log) says so with ``info={"retention": "own"}``.

Why whole, not kept with people replaced by pseudonyms: once a department no longer
needs an incident, nothing about it is worth keeping, and a record kept for ever without
names is still a record someone must answer for. Erasing one person from an incident that
is still kept is the people's-rights commands' job.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, select

from bot.storage.retention import Pruner, Retention, delete_some
from bot.storage.sql import atomic, execute, metadata
from incidents.paging.webhooks.store import webhook_events
from incidents.store.tables import incidents

# Incidents per transaction: each takes a few hundred rows with it at most.
INCIDENTS_PER_BATCH = 20
_i = incidents.c


def incident_tables() -> list[Table]:
    """Every table that holds rows of an incident, children before their parents."""
    return [
        t
        for t in reversed(metadata.sorted_tables)
        if "incident_id" in t.c and t is not incidents and t.info.get("retention") != "own"
    ]


def closed_incidents(db: Any, keep: timedelta) -> Pruner:
    """Incidents closed more than ``keep`` ago, each deleted with all its rows."""

    async def batch(before: datetime, limit: int) -> int:
        size = max(1, min(limit, INCIDENTS_PER_BATCH))
        old = (_i.status == "closed") & (_i.closed_at < before)
        async with atomic(db):
            ids: list[str] = list(
                (await execute(db, select(_i.id).where(old).limit(size))).scalars()
            )
            if not ids:
                return 0
            for table in incident_tables():
                await execute(db, delete(table).where(table.c.incident_id.in_(ids)))
            await execute(db, delete(incidents).where(_i.id.in_(ids)))
        return len(ids)

    return Pruner("closed incidents", keep, batch)


def webhook_callbacks(db: Any, keep: timedelta) -> Pruner:
    """Callbacks from paging tools older than ``keep``, except an open incident's (they
    link the tool's incident to ours for as long as ours is open)."""
    w = webhook_events.c
    open_ids = select(_i.id).where(_i.status != "closed")

    async def batch(before: datetime, limit: int) -> int:
        old = (w.received_at < before) & (w.incident_id.is_(None) | w.incident_id.not_in(open_ids))
        return await delete_some(db, webhook_events, old, limit)

    return Pruner("paging tool callbacks", keep, batch)


def add_pruners(services: Any) -> None:
    """Register both with the daily prune (none when the app runs without one)."""
    retention = services.find_feature(Retention)
    if retention is None:
        return
    settings = services.settings
    retention.add(closed_incidents(services.db, settings.keep_closed_incidents))
    retention.add(webhook_callbacks(services.db, settings.keep_webhook_events))
