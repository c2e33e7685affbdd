"""Issue 16 items 4 and 5: evidence kept for an incident (messages copied to its
timeline, files with their SHA-256 hashes), copies waiting for their person to pick an
incident, and the fake accounts reported for takedown with their chase reminders.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TIME = UtcDateTime()  # text on SQLite, TIMESTAMP WITH TIME ZONE on PostgreSQL


def upgrade() -> None:
    op.create_table(
        "incident_evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.Text(), nullable=True),
        sa.Column("by_key", sa.Text(), nullable=False),
        sa.Column("by_name", sa.Text(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.UniqueConstraint(
            "incident_id", "source", name="uq_incident_evidence_incident_id_source"
        ),
    )
    op.create_table(
        "timeline_clips",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_index("timeline_clips_created", "timeline_clips", ["created_at"])
    op.create_table(
        "incident_takedowns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Text(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.Column("added_by_name", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("chase_at", _TIME, nullable=True),
        sa.Column("chased_at", _TIME, nullable=True),
        sa.UniqueConstraint("incident_id", "url", name="uq_incident_takedowns_incident_id_url"),
    )
    op.create_index("incident_takedowns_chase", "incident_takedowns", ["chase_at"])


def downgrade() -> None:
    raise ForwardOnly
