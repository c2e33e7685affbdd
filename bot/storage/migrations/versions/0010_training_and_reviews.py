"""Assigned training and access reviews (issue 19 items 3 and 4): each person's assigned
exam and due date (``training_assignments``) with its reminders (``training_nudges``,
durable timers claimed once).

Revision ID: 0010
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("user_key", sa.Text(), nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("team", sa.Text(), nullable=False, server_default=""),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("assigned_at", UtcDateTime(), nullable=False),
        sa.Column("assigned_by", sa.Text(), nullable=False),
        sa.Column("assigned_by_name", sa.Text(), nullable=False),
        sa.UniqueConstraint("tenant", "user_key", name="uq_training_assignments_tenant_user_key"),
    )
    op.create_index("training_assignments_team", "training_assignments", ["tenant", "team"])
    op.create_table(
        "training_nudges",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assignment_id",
            sa.Integer(),
            sa.ForeignKey("training_assignments.id"),
            nullable=False,
        ),
        sa.Column("mark", sa.Text(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("fired_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint("assignment_id", "mark", name="uq_training_nudges_assignment_id_mark"),
    )
    op.create_index("training_nudges_due", "training_nudges", ["fired_at", "due_at"])


def downgrade() -> None:
    raise ForwardOnly
