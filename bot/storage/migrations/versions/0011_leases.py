"""Several instances share the work (issue 14 item 5): leases on every background job's
rows, the leader's lease, rate-limit pauses every instance honours, and the cards whose
redraw is owed (item 6).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The tables whose rows background jobs claim.
CLAIMED = ("inbox", "paging_outbox", "paging_jobs", "incident_timers")


def upgrade() -> None:
    for table in CLAIMED:
        op.add_column(table, sa.Column("claimed_by", sa.Text(), nullable=True))
        op.add_column(table, sa.Column("lease_until", UtcDateTime(), nullable=True))
    # How often a kept delivery was claimed: a second claim means an instance died with
    # it in hand, so it is handled as a replay. Rows already kept were left by a process
    # that stopped: they count as claimed once.
    op.add_column("inbox", sa.Column("claims", sa.Integer(), nullable=False, server_default="0"))
    inbox = sa.table("inbox", sa.column("claims", sa.Integer()))
    op.execute(inbox.update().values(claims=1))
    op.create_table(
        "leaders",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("lease_until", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leaders"),
    )
    op.create_table(
        "rate_pauses",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("until", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name="pk_rate_pauses"),
    )
    op.create_table(
        "card_redraws",
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("drawn", sa.Text(), nullable=True),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("card", name="pk_card_redraws"),
    )
    op.create_index("card_redraws_due", "card_redraws", ["due_at"])


def downgrade() -> None:
    raise ForwardOnly
