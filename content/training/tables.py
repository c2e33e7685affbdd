"""The tables of assigned training (revision 0010): one assignment per person per tenant
(``training_assignments``; a new due date replaces the old) and its reminders
(``training_nudges``), durable timers claimed once like ``incident_timers``."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Table, Text, UniqueConstraint

from bot.storage.sql import UtcDateTime, metadata

training_assignments = Table(
    "training_assignments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("user_key", Text, nullable=False),  # platform:id
    Column("user_name", Text, nullable=False),
    Column("team", Text, nullable=False, server_default=""),  # assigned through this team
    Column("due_on", Date, nullable=False),
    Column("place", Text, nullable=False),  # JSON Place it was assigned from
    Column("assigned_at", UtcDateTime, nullable=False),
    Column("assigned_by", Text, nullable=False),
    Column("assigned_by_name", Text, nullable=False),
    UniqueConstraint("tenant", "user_key"),
    Index("training_assignments_team", "tenant", "team"),
)

training_nudges = Table(
    "training_nudges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assignment_id", Integer, ForeignKey("training_assignments.id"), nullable=False),
    Column("mark", Text, nullable=False),  # "<due date>:before" | ":on" | ":after-N"
    Column("due_at", UtcDateTime, nullable=False),
    Column("fired_at", UtcDateTime),  # claimed: sent, or found no longer needed
    UniqueConstraint("assignment_id", "mark"),
    Index("training_nudges_due", "fired_at", "due_at"),
)
