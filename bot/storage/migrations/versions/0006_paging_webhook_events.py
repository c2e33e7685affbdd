"""Two-way paging (issue 16 item 1): the callbacks from PagerDuty and other paging tools
already handled, so a replayed event changes nothing twice.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paging_webhook_events",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.Text(), nullable=True),
        sa.Column("remote_incident", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "event_id", name="pk_paging_webhook_events"),
    )
    op.create_index(
        "paging_webhook_events_remote", "paging_webhook_events", ["source", "remote_incident"]
    )


def downgrade() -> None:
    raise ForwardOnly
