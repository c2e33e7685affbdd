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

# Exam completions on their way to a learning record store (xAPI): one row per exam
# result (UNIQUE), made from the exam record itself, kept until the store has it.
xapi_outbox = Table(
    "xapi_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("exam_result_id", Integer, ForeignKey("quiz_exam_results.id"), nullable=False),
    Column("statement_id", Text, nullable=False),  # a UUID: the LRS keeps one per id
    Column("statement", Text, nullable=False),  # JSON, as sent
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("last_error", Text),
    UniqueConstraint("exam_result_id"),
    Index("xapi_outbox_due", "sent_at", "next_attempt_at"),
)
