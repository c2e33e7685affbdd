"""Holding statements (issue 16 item 6): one line per incident and situation, with who
edited, approved and posted it, and when.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_holding_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Text(), nullable=False),
        sa.Column("situation", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("edited_by", sa.Text(), nullable=True),
        sa.Column("edited_by_name", sa.Text(), nullable=True),
        sa.Column("edited_at", UtcDateTime(), nullable=True),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("approved_by_name", sa.Text(), nullable=True),
        sa.Column("approved_at", UtcDateTime(), nullable=True),
        sa.Column("posted_by", sa.Text(), nullable=True),
        sa.Column("posted_by_name", sa.Text(), nullable=True),
        sa.Column("posted_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint(
            "incident_id", "situation", name="uq_incident_holding_lines_situation"
        ),
    )
    op.create_index("incident_holding_lines_incident", "incident_holding_lines", ["incident_id"])


def downgrade() -> None:
    raise ForwardOnly
