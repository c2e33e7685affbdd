"""The ICO 72-hour clock and status reminders (issue 16 items 2 and 3): durable timers
per incident (``incident_timers``, claimed once through ``fired_at``) and each
incident's ICO clock and decision (``incident_ico``).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_timers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("mark", sa.Text(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("fired_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint(
            "incident_id", "kind", "mark", name="uq_incident_timers_incident_id_kind_mark"
        ),
    )
    op.create_index("incident_timers_due", "incident_timers", ["fired_at", "due_at"])
    op.create_table(
        "incident_ico",
        sa.Column("incident_id", sa.Text(), primary_key=True),
        sa.Column("aware_at", UtcDateTime(), nullable=False),
        sa.Column("deadline_at", UtcDateTime(), nullable=False),
        sa.Column("started_by", sa.Text(), nullable=False),
        sa.Column("dpo", sa.Text(), nullable=True),
        sa.Column("dpo_name", sa.Text(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_by_name", sa.Text(), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
    )


def downgrade() -> None:
    raise ForwardOnly
