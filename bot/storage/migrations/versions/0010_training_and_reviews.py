"""Assigned training and access reviews (issue 19 items 3 and 4): each person's assigned
exam and due date (``training_assignments``) with its reminders (``training_nudges``,
durable timers claimed once); access reviews (``access_reviews``, one per account per
period), their decisions (``access_review_decisions``, one per person per review) and
leavers' removal tasks (``leaver_tasks``); exam completions on their way to a learning
record store (``xapi_outbox``).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly
from bot.storage.sql import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("user_key", sa.Text(), nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("team", sa.Text(), nullable=False, server_default=""),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("assigned_at", UtcDateTime(), nullable=False),
        sa.Column("assigned_by", sa.Text(), nullable=False),
        sa.Column("assigned_by_name", sa.Text(), nullable=False),
        sa.UniqueConstraint("tenant", "user_key", name="uq_training_assignments_tenant_user_key"),
    )
    op.create_index("training_assignments_team", "training_assignments", ["tenant", "team"])
    op.create_table(
        "training_nudges",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assignment_id",
            sa.Integer(),
            sa.ForeignKey("training_assignments.id"),
            nullable=False,
        ),
        sa.Column("mark", sa.Text(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("fired_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint("assignment_id", "mark", name="uq_training_nudges_assignment_id_mark"),
    )
    op.create_index("training_nudges_due", "training_nudges", ["fired_at", "due_at"])

    op.create_table(
        "access_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("account_title", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("owner_name", sa.Text(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("people", sa.Text(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("next_reminder_at", UtcDateTime(), nullable=True),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.Column("done_by", sa.Text(), nullable=True),
        sa.Column("done_by_name", sa.Text(), nullable=True),
        sa.UniqueConstraint("account_id", "period", name="uq_access_reviews_account_id_period"),
    )
    op.create_index("access_reviews_open", "access_reviews", ["tenant", "done_at", "due_on"])
    op.create_table(
        "access_review_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_id", sa.Integer(), sa.ForeignKey("access_reviews.id"), nullable=False),
        sa.Column("person_key", sa.Text(), nullable=False),
        sa.Column("person_name", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("decided_by_name", sa.Text(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint(
            "review_id", "person_key", name="uq_access_review_decisions_review_id_person_key"
        ),
    )
    op.create_table(
        "leaver_tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("leaver_id", sa.Text(), nullable=False),
        sa.Column("leaver_name", sa.Text(), nullable=False),
        sa.Column("person_key", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("account_title", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("owner_name", sa.Text(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("opened_by", sa.Text(), nullable=False),
        sa.Column("opened_by_name", sa.Text(), nullable=False),
        sa.Column("confirmed_at", UtcDateTime(), nullable=True),
        sa.Column("confirmed_by", sa.Text(), nullable=True),
        sa.Column("confirmed_by_name", sa.Text(), nullable=True),
        sa.UniqueConstraint(
            "tenant", "leaver_id", "account_id", name="uq_leaver_tasks_tenant_leaver_id_account_id"
        ),
    )

    op.create_table(
        "xapi_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "exam_result_id",
            sa.Integer(),
            sa.ForeignKey("quiz_exam_results.id"),
            nullable=False,
        ),
        sa.Column("statement_id", sa.Text(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.UniqueConstraint("exam_result_id", name="uq_xapi_outbox_exam_result_id"),
    )
    op.create_index("xapi_outbox_due", "xapi_outbox", ["sent_at", "next_attempt_at"])


def downgrade() -> None:
    raise ForwardOnly
