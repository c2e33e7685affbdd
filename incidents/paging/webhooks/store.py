"""The callbacks already handled (``paging_webhook_events``), so a replay does nothing.

A paging tool delivers each event at least once (PagerDuty retries a webhook it had
no 2xx for, and may send one twice): the row is claimed, keyed by (source, event id),
before the event changes anything, and released again if handling it fails, so the
tool's retry can try again. The row also links the tool's own incident id to ours,
which is how a note (whose event names only the tool's incident) finds the incident.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, PrimaryKeyConstraint, Table, Text, delete, select, update

from bot.storage.sql import Db, UtcDateTime, execute, metadata, upsert

webhook_events = Table(
    "paging_webhook_events",
    metadata,
    Column("source", Text, nullable=False),  # pagerduty, or webhook:<target>
    Column("event_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("incident_id", Text),  # ours, once matched
    Column("remote_incident", Text),  # the tool's own incident id
    Column("outcome", Text, nullable=False),  # received, then applied or ignored: why
    Column("received_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("source", "event_id", name="pk_paging_webhook_events"),
    Index("paging_webhook_events_remote", "source", "remote_incident"),
)

_e = webhook_events.c
_CLAIM = upsert(webhook_events).on_conflict_do_nothing()


class WebhookEvents:
    """Claim, finish and release handled events; find our incident for the tool's."""

    def __init__(self, db: Db):
        self.db = db

    async def claim(
        self, source: str, event_id: str, kind: str, remote: str | None, now: datetime
    ) -> bool:
        """True for the first delivery of this event; False for a replay."""
        claimed = await execute(
            self.db,
            _CLAIM,
            {
                "source": source,
                "event_id": event_id,
                "kind": kind,
                "remote_incident": remote,
                "outcome": "received",
                "received_at": now,
            },
        )
        return claimed.rowcount == 1

    async def release(self, source: str, event_id: str) -> None:
        """Handling failed: forget the claim, so the tool's retry is handled."""
        await execute(
            self.db, delete(webhook_events).where((_e.source == source) & (_e.event_id == event_id))
        )

    async def finish(
        self, source: str, event_id: str, incident_id: str | None, outcome: str
    ) -> None:
        await execute(
            self.db,
            update(webhook_events)
            .where((_e.source == source) & (_e.event_id == event_id))
            .values(incident_id=incident_id, outcome=outcome[:200]),
        )

    async def incident_for(self, source: str, remote: str) -> str | None:
        """Our incident that an earlier event of the tool's incident ``remote`` matched."""
        found = await execute(
            self.db,
            select(_e.incident_id)
            .where(
                (_e.source == source)
                & (_e.remote_incident == remote)
                & _e.incident_id.is_not(None)
            )
            .limit(1),
        )
        return found.scalar()
