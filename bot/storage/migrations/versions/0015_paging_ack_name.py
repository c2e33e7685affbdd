"""Who acknowledged a page, by name (``paging_incidents.acknowledged_by_name``).

Paging's record names the person who acknowledged, written in the same UPDATE that
stops escalating, so the chat page that says "Acknowledged by …" never has to wait for
another part of the bot to learn the name. Before this, an acknowledgement made in
PagerDuty could update the chat page before the incident desk had recorded the name,
and the page showed the PagerDuty user's id. Rows already there have no name: their
pages are named as before (the incident's own record, else the id).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("paging_incidents", sa.Column("acknowledged_by_name", sa.Text(), nullable=True))


def downgrade() -> None:
    raise ForwardOnly
