"""The accounts register (issue 19 item 1): official accounts, the people with access to
each, and CSV imports waiting to be confirmed (``incidents/register/tables.py``); and
the owning team on an incident, so routing can match on it (issue 19 item 2).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("handle", sa.Text(), nullable=False),
        sa.Column("handle_key", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("team", sa.Text(), nullable=False),
        sa.Column("team_key", sa.Text(), nullable=False),
        sa.Column("owner_name", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("owner_email", sa.Text(), nullable=False),
        sa.Column("two_factor", sa.Text(), nullable=False),
        sa.Column("recovery_email", sa.Text(), nullable=False),
        sa.Column("recovery_phone", sa.Text(), nullable=False),
        sa.Column("recovery_holder", sa.Text(), nullable=False),
        sa.Column("recovery_shared", sa.Boolean(), nullable=False),
        sa.Column("verification", sa.Text(), nullable=False),
        sa.Column("tools", sa.Text(), nullable=False),
        sa.Column("last_reviewed", sa.Date(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_by_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_register_accounts"),
        sa.UniqueConstraint(
            "tenant",
            "platform",
            "handle_key",
            name="uq_register_accounts_tenant_platform_handle_key",
        ),
    )
    op.create_index("register_accounts_team", "register_accounts", ["tenant", "team_key"])
    op.create_index("register_accounts_owner", "register_accounts", ["tenant", "owner_id"])
    op.create_table(
        "register_access",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("person_key", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "person_key", name="pk_register_access"),
    )
    op.create_index("register_access_user", "register_access", ["user_id"])
    op.create_table(
        "register_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("by_key", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("applied_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_register_imports"),
    )
    # An incident remembers its registered account's owning team, for routing rules.
    op.add_column("incidents", sa.Column("owning_team", sa.Text(), nullable=True))


def downgrade() -> None:
    raise ForwardOnly
