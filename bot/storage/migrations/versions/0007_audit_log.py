"""The audit log and people's rights (issue 18 items 6 and 7): one row per admin action,
the key behind erased people's pseudonyms when none is configured, and the author of
each web chat message a person sent (so their messages can be found and erased).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("door", sa.Text(), nullable=False),
        sa.Column("workspace", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_name", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("audit_log_at", "audit_log", ["at"])
    op.create_index("audit_log_subject", "audit_log", ["subject"])
    op.create_table(
        "privacy_keys",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.add_column("webchat_messages", sa.Column("author", sa.Text(), nullable=True))


def downgrade() -> None:
    raise ForwardOnly
