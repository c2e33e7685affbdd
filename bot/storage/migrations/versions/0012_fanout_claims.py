"""Tip fan-out shared by several instances (issue 14 item 5): each ledger row an instance
is working on carries who holds it and until when, so a page of rows is claimed in one
statement and a killed instance's page is taken over once its lease runs out.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows left in `sending` by an older secbot have no lease: the fan-out settles them
    # (as `unknown`, never re-sent) the first time it looks, as the old start-up did.
    op.add_column("tip_deliveries", sa.Column("claimed_by", sa.Text(), nullable=True))
    op.add_column("tip_deliveries", sa.Column("lease_until", UtcDateTime(), nullable=True))


def downgrade() -> None:
    raise ForwardOnly
