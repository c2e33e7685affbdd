"""The paging tables, declared once on the shared MetaData (storage v2, step 1).

They describe exactly what the ``paging`` migration step (:mod:`.schema`) leaves on disk:
the same tables, columns, types, constraints and index names, so a file made by an older
secbot is read by these declarations unchanged. The stores build every query from them
with SQLAlchemy Core; the schema itself is still created by the migrations.

Times stay text columns holding paging's own spelling (``2026-03-30T08:30:00.000000Z``,
written by ``rows.ts``), not :class:`~bot.storage.sql.UtcDateTime`, whose text ends in
``+00:00``: mixing the two in one column would make an old row and a new one at the same
instant compare unequal. Step 2 rewrites the stored times in an Alembic revision and
switches these columns to ``UtcDateTime``.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
)

from bot.storage.leases import lease_columns
from bot.storage.sql import metadata

# A time as paging stores it (see the module docstring).
ZTime = Text

paging_incidents = Table(
    "paging_incidents",
    metadata,
    Column("incident_id", Text, primary_key=True),
    Column("info", Text, nullable=False),  # JSON: what the pages say
    Column("team", Text, nullable=False),
    Column("chain", Text, nullable=False),  # JSON: the escalation chain when paging began
    Column("drill", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("started_at", ZTime, nullable=False),
    Column("acknowledged_at", ZTime),
    Column("acknowledged_by", Text),
    Column("resolved_at", ZTime),
    Column("exhausted_at", ZTime),
    # Who acknowledged, by name (revision 0015), set with ``acknowledged_by``: what
    # people read on the updated chat page.
    Column("acknowledged_by_name", Text),
)

paging_jobs = Table(
    "paging_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Text, ForeignKey("paging_incidents.incident_id"), nullable=False),
    Column("step", Integer, nullable=False),
    Column("repeat_round", Integer, nullable=False),
    Column("due_at", ZTime, nullable=False),
    Column("status", Text, nullable=False),
    Column("finished_at", ZTime),
    *lease_columns(),  # which instance runs the step, until when (bot/storage/leases.py)
    UniqueConstraint("incident_id", "step", "repeat_round"),
    Index("paging_jobs_due", "status", "due_at"),
)

paging_outbox = Table(
    "paging_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Text, ForeignKey("paging_incidents.incident_id"), nullable=False),
    Column("step", Integer, nullable=False),
    Column("repeat_round", Integer, nullable=False),
    Column("target_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("target", Text, nullable=False),  # JSON: the provider's address for the target
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", ZTime, nullable=False),
    Column("detail", Text),
    Column("ref", Text),  # JSON: the provider's reference for a sent page
    Column("fallback_for", Text),
    Column("created_at", ZTime, nullable=False),
    Column("sent_at", ZTime),
    *lease_columns(),  # which instance is sending it, until when (bot/storage/leases.py)
    UniqueConstraint("incident_id", "step", "repeat_round", "target_id", "action"),
    Index("paging_outbox_due", "status", "next_attempt_at"),
)

# Constraints refer to the columns, so they follow the tables.
paging_incidents.append_constraint(
    CheckConstraint(
        paging_incidents.c.state.in_(["active", "acknowledged", "resolved"]), name="state"
    )
)
paging_jobs.append_constraint(
    CheckConstraint(paging_jobs.c.status.in_(["pending", "done", "cancelled"]), name="status")
)
paging_outbox.append_constraint(
    CheckConstraint(
        paging_outbox.c.action.in_(["trigger", "acknowledge", "resolve"]), name="action"
    )
)
paging_outbox.append_constraint(
    CheckConstraint(
        paging_outbox.c.status.in_(
            ["pending", "sending", "sent", "failed", "cancelled", "skipped"]
        ),
        name="status",
    )
)
