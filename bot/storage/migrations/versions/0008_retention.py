"""Retention (issue 18 item 5): one row per prune job and day, so that of several
instances only the first to claim the day's run prunes.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_runs",
        sa.Column("job", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("removed", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("job", "day", name="pk_retention_runs"),
    )


def downgrade() -> None:
    raise ForwardOnly
