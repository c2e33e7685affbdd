"""The quiz's tables, declared once on the shared MetaData (storage v2, step 1).

They describe exactly what the quiz's migration steps (:mod:`.schema`) leave on disk:
the same tables, columns, types, defaults, constraints and index names, so a file made
by an older secbot is read by these declarations unchanged. The stores build every query
from them with SQLAlchemy Core; the schema itself is still created by the migrations.

Every time column is :class:`~bot.storage.sql.UtcDateTime`, whose text on SQLite is the
quiz's own (``2026-03-30T08:30:00.000000+00:00``), so old rows and new compare as before.
"""

from __future__ import annotations

from sqlalchemy import (
    REAL,
    CheckConstraint,
    Column,
    CursorResult,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
)

from bot.storage.sql import UtcDateTime, metadata

# Column defaults as on disk (DEFAULT 0, DEFAULT '').
_ZERO, _EMPTY = "0", ""


def _place_columns() -> list[Column]:
    """Where a row happened: the place's platform, workspace and channel."""
    return [
        Column("platform", Text, nullable=False),
        Column("workspace", Text, nullable=False),
        Column("channel", Text, nullable=False),
    ]


quiz_posts = Table(
    "quiz_posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Text, nullable=False),
    Column("option_order", Text, nullable=False),  # JSON list of option indexes
    Column("tag", Text, nullable=False, server_default=_EMPTY),
    *_place_columns(),
    Column("is_direct", Integer, nullable=False, server_default=_ZERO),
    Column("thread", Text),
    Column("message_id", Text),
    Column("posted_by", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closes_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("delivery_key", Text),
    Index("quiz_posts_place", "platform", "workspace", "channel", "created_at"),
    Index("quiz_posts_place_id", "platform", "workspace", "channel", "id"),
)

quiz_sessions = Table(
    "quiz_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("user_key", Text, nullable=False),
    Column("user_name", Text, nullable=False, server_default=_EMPTY),
    Column("questions", Text, nullable=False),  # JSON: [{"item": id, "order": [...]}, ...]
    Column("answered", Integer, nullable=False, server_default=_ZERO),
    Column("correct", Integer, nullable=False, server_default=_ZERO),
    Column("shown", Integer, nullable=False, server_default=_ZERO),
    Column("shown_at", UtcDateTime, nullable=False),
    Column("status", Text, nullable=False, server_default="active"),
    Column("tag", Text, nullable=False, server_default=_EMPTY),
    Column("content_version", Text, nullable=False, server_default=_EMPTY),
    *_place_columns(),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
)

quiz_prompts = Table(
    "quiz_prompts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("source_id", Text, nullable=False, server_default=_EMPTY),
    Column("user_key", Text, nullable=False),
    Column("item_id", Text, nullable=False),
    *_place_columns(),
    Column("shown_at", UtcDateTime, nullable=False),
    Index("quiz_prompts_user_item", "user_key", "item_id", "id"),
)

quiz_answers = Table(
    "quiz_answers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_key", Text, nullable=False),
    Column("user_name", Text, nullable=False, server_default=_EMPTY),
    Column("item_id", Text, nullable=False),
    Column("module", Text, nullable=False),
    Column("principle", Text, nullable=False),
    Column("choice", Integer, nullable=False),
    Column("correct", Integer, nullable=False),
    Column("seconds", REAL, nullable=False),
    Column("context", Text, nullable=False),
    Column("post_id", Integer, ForeignKey("quiz_posts.id")),
    Column("session_id", Integer, ForeignKey("quiz_sessions.id")),
    Column("position", Integer),
    Column("prompt_id", Integer, ForeignKey("quiz_prompts.id")),
    *_place_columns(),
    Column("answered_at", UtcDateTime, nullable=False),
    Column("delivery_key", Text),
    UniqueConstraint("post_id", "user_key"),
    UniqueConstraint("session_id", "position"),
    UniqueConstraint("prompt_id"),
    Index("quiz_answers_user", "user_key", "answered_at"),
    Index("quiz_answers_place", "platform", "workspace", "channel", "answered_at"),
)

quiz_cards = Table(
    "quiz_cards",
    metadata,
    Column("user_key", Text, primary_key=True),
    Column("item_id", Text, primary_key=True),
    Column("card", Text, nullable=False),  # the spaced-repetition card, as JSON
    Column("due", UtcDateTime, nullable=False),
    Column("reviews", Integer, nullable=False, server_default=_ZERO),
    Column("lapses", Integer, nullable=False, server_default=_ZERO),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("quiz_cards_due", "user_key", "due"),
)

quiz_exam_results = Table(
    "quiz_exam_results",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("quiz_sessions.id"), nullable=False, unique=True),
    Column("user_key", Text, nullable=False),
    Column("user_name", Text, nullable=False, server_default=_EMPTY),
    Column("score", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("passed", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=False),
    Column("content_version", Text, nullable=False),
    Column("refresher_due", UtcDateTime, nullable=False),
    Index("quiz_exam_results_user", "user_key", "completed_at"),
)

quiz_prefs = Table(
    "quiz_prefs",
    metadata,
    Column("user_key", Text, primary_key=True),
    Column("leaderboard_opt_out", Integer, nullable=False, server_default=_ZERO),
    Column("updated_at", UtcDateTime, nullable=False),
)


def _partial_index(name: str, *columns: Column, where, unique: bool = False) -> Index:
    """An index over only the rows ``where`` holds (SQLite and PostgreSQL both have them)."""
    return Index(name, *columns, unique=unique, sqlite_where=where, postgresql_where=where)


# Constraints and partial indexes refer to the columns, so they follow the tables.
quiz_sessions.append_constraint(
    CheckConstraint(quiz_sessions.c.kind.in_(["practice", "exam"]), name="kind")
)
quiz_sessions.append_constraint(
    CheckConstraint(quiz_sessions.c.status.in_(["active", "done", "abandoned"]), name="status")
)
quiz_prompts.append_constraint(CheckConstraint(quiz_prompts.c.source.in_(["tip"]), name="source"))
quiz_answers.append_constraint(
    CheckConstraint(
        quiz_answers.c.context.in_(["channel", "practice", "exam", "tip"]), name="context"
    )
)
_partial_index("quiz_posts_due", quiz_posts.c.closes_at, where=quiz_posts.c.closed_at.is_(None))
_partial_index(
    "quiz_posts_delivery",
    quiz_posts.c.delivery_key,
    unique=True,
    where=quiz_posts.c.delivery_key.is_not(None),
)
_partial_index(
    "quiz_sessions_one_active",
    quiz_sessions.c.user_key,
    quiz_sessions.c.kind,
    unique=True,
    where=quiz_sessions.c.status == "active",
)
_partial_index(
    "quiz_answers_delivery",
    quiz_answers.c.delivery_key,
    unique=True,
    where=quiz_answers.c.delivery_key.is_not(None),
)


def new_id(inserted: CursorResult) -> int:
    """The id of the row an INSERT of one row just wrote."""
    key = inserted.inserted_primary_key
    assert key is not None
    return int(key[0])
