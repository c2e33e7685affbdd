"""The tables of access reviews and leavers (revision 0010).

``access_reviews``: one per account per period (UNIQUE), with the access list as it was
when the review opened (``people``, JSON), so buttons name people by position and a later
register edit can't change what a click means. ``next_reminder_at`` is the review's
durable timer: a round claims it by moving it on with a compare-and-set, so a reminder
goes once whatever restarts. ``access_review_decisions``: one per person per review
(UNIQUE): a second answer records nothing. ``leaver_tasks``: one per leaver per account.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Table, Text, UniqueConstraint

from bot.storage.sql import UtcDateTime, metadata

access_reviews = Table(
    "access_reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("account_id", Integer, nullable=False),
    Column("account_title", Text, nullable=False),
    Column("period", Text, nullable=False),  # the period's first day, ISO
    Column("owner_id", Text, nullable=False),
    Column("owner_name", Text, nullable=False),
    Column("place", Text, nullable=False),  # JSON Place an admin asked from, or ""
    Column("people", Text, nullable=False),  # JSON [{"key", "name", "role"}]
    Column("opened_at", UtcDateTime, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("next_reminder_at", UtcDateTime),
    Column("done_at", UtcDateTime),
    Column("done_by", Text),
    Column("done_by_name", Text),
    UniqueConstraint("account_id", "period"),
    Index("access_reviews_open", "tenant", "done_at", "due_on"),
)

access_review_decisions = Table(
    "access_review_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("access_reviews.id"), nullable=False),
    Column("person_key", Text, nullable=False),
    Column("person_name", Text, nullable=False),
    Column("decision", Text, nullable=False),  # keep | remove
    Column("decided_by", Text, nullable=False),
    Column("decided_by_name", Text, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    UniqueConstraint("review_id", "person_key"),
)

leaver_tasks = Table(
    "leaver_tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("leaver_id", Text, nullable=False),  # chat id on the tenant's platform
    Column("leaver_name", Text, nullable=False),
    Column("person_key", Text, nullable=False),  # the register's Person.key
    Column("account_id", Integer, nullable=False),
    Column("account_title", Text, nullable=False),
    Column("owner_id", Text, nullable=False),
    Column("owner_name", Text, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("opened_by", Text, nullable=False),
    Column("opened_by_name", Text, nullable=False),
    Column("confirmed_at", UtcDateTime),
    Column("confirmed_by", Text),
    Column("confirmed_by_name", Text),
    UniqueConstraint("tenant", "leaver_id", "account_id"),
)
