"""The checklist by phase (issue 15 item 3): "Need help" on a step (who asked, and
when), and per incident the phase someone opened with "Show next phase" and a close
waiting for confirmation because steps were still open.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("help_by", "help_name"):
        op.add_column("incident_steps", sa.Column(column, sa.Text(), nullable=True))
    # Text on SQLite, as before; TIMESTAMP WITH TIME ZONE on PostgreSQL.
    op.add_column("incident_steps", sa.Column("help_at", UtcDateTime(), nullable=True))
    op.create_table(
        "incident_checklists",
        sa.Column("incident_id", sa.Text(), sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("phase", sa.Text(), nullable=True),
        sa.Column("close_summary", sa.Text(), nullable=True),
        sa.Column("close_by", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    raise ForwardOnly
