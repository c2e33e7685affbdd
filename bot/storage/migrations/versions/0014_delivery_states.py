"""A delivery's state (issue 13 item 4, issue 14): ``processed_deliveries`` records who is
handling a delivery whose request waits for the answer, until when (a lease), and when
it was finished, so a copy resent after its handler died with its process is handled
instead of dropped (``bot/storage/deliveries.py``). Rows already there have neither a
lease nor a finish: they read as done with, as before.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("processed_deliveries", sa.Column("claimed_by", sa.Text(), nullable=True))
    op.add_column("processed_deliveries", sa.Column("lease_until", UtcDateTime(), nullable=True))
    op.add_column("processed_deliveries", sa.Column("finished_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    raise ForwardOnly
