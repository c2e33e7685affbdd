"""Team self-assessments against the NCSC's five principles (issue 19 item 5): one
assessment per team at a time (``assessments``) and one answer per question
(``assessment_answers``).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_OPEN = sa.text("finished_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("team", sa.Text(), nullable=False),
        sa.Column("team_name", sa.Text(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("started_by", sa.Text(), nullable=False),
        sa.Column("started_by_name", sa.Text(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("finished_by", sa.Text(), nullable=True),
        sa.Column("finished_by_name", sa.Text(), nullable=True),
        sa.Column("finish_key", sa.Text(), nullable=True),
    )
    op.create_index(
        "assessments_open", "assessments", ["tenant", "team"], unique=True,
        sqlite_where=_OPEN, postgresql_where=_OPEN,
    )  # fmt: skip
    op.create_index("assessments_team", "assessments", ["tenant", "team", "finished_at"])
    op.create_table(
        "assessment_answers",
        sa.Column("assessment_id", sa.Integer(), sa.ForeignKey("assessments.id"), primary_key=True),
        sa.Column("question_id", sa.Text(), primary_key=True),
        sa.Column("answer_id", sa.Text(), nullable=False),
        sa.Column("answered_at", UtcDateTime(), nullable=False),
        sa.Column("answered_by", sa.Text(), nullable=False),
        sa.Column("answered_by_name", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    raise ForwardOnly
