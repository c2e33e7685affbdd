"""The tips tables, declared once on the shared MetaData (storage v2, step 1).

They describe exactly what the ``tips`` migration steps (:mod:`.schema`) leave on disk: the
same tables, columns, types, defaults, constraints and index names, so a file made by an
older secbot is read by these declarations unchanged. The stores build every query from
them with SQLAlchemy Core; the schema itself is still created by the migrations.

Times stay text columns holding the tips' own spelling (``2026-03-30T08:30:00.000000Z``,
written by ``records.ts``), not :class:`~bot.storage.sql.UtcDateTime`, whose text ends in
``+00:00``: mixing the two in one column would make an old row and a new one at the same
instant compare unequal. Step 2 rewrites the stored times in an Alembic revision and
switches these columns to ``UtcDateTime``. A local day (``2026-03-30``) is a text column
too, as on disk (``sqlalchemy.Date`` would declare a DATE column the files do not have);
the stores write and read it with ``date.isoformat``/``date.fromisoformat``.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from bot.storage.sql import UtcDateTime, metadata

# A time as the tips store it (see the module docstring).
ZTime = Text

tip_subscriptions = Table(
    "tip_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", Text, nullable=False),
    Column("workspace", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("is_direct", Integer, nullable=False, server_default="0"),
    Column("thread", Text),
    Column("local_time", Text, nullable=False),  # "HH:MM" in the schedule's time zone
    Column("days", Text, nullable=False),  # content.tips.schedule.encode_days
    Column("nation", Text, nullable=False),
    Column("active", Integer, nullable=False, server_default="1"),
    Column("inactive_reason", Text),
    Column("cycle", Integer, nullable=False, server_default="1"),
    Column("next_local_date", Text),  # a local day, 2026-03-30
    Column("next_due", ZTime),
    Column("created_by", Text, nullable=False),
    Column("created_at", ZTime, nullable=False),
    Column("updated_at", ZTime, nullable=False),
    Column("delivery_key", Text),
    UniqueConstraint("platform", "workspace", "channel"),
    Index("tip_subscriptions_due", "active", "next_due"),
)

tip_deliveries = Table(
    "tip_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscription_id", Integer, ForeignKey("tip_subscriptions.id"), nullable=False),
    Column("local_date", Text),  # a local day, 2026-03-30
    Column("test_slot", Integer),
    Column("kind", Text, nullable=False),
    Column("tip_id", Text, nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("due_at", ZTime, nullable=False),
    Column("claimed_at", ZTime, nullable=False),
    Column("updated_at", ZTime, nullable=False),
    Column("retry_at", ZTime),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("message_id", Text),
    Column("error", Text),
    Column("request_key", Text),
    # The instance working on the row and until when (revision 0012, content/tips/lease.py).
    Column("claimed_by", Text),
    Column("lease_until", UtcDateTime),
    UniqueConstraint("subscription_id", "local_date"),
    UniqueConstraint("subscription_id", "test_slot"),
)

tip_rotation = Table(
    "tip_rotation",
    metadata,
    Column("subscription_id", Integer, ForeignKey("tip_subscriptions.id"), nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("tip_id", Text, nullable=False),
    Column("served_at", ZTime, nullable=False),
    PrimaryKeyConstraint("subscription_id", "cycle", "tip_id"),
)

tip_votes = Table(
    "tip_votes",
    metadata,
    Column("tip_id", Text, nullable=False),
    Column("place", Text, nullable=False),  # Place.to_json() of the channel
    Column("voter", Text, nullable=False),
    Column("vote", Text, nullable=False),
    Column("updated_at", ZTime, nullable=False),
    PrimaryKeyConstraint("tip_id", "place", "voter"),
)


def _partial_index(name: str, *columns: Column, where: ColumnElement[bool], unique=False) -> Index:
    """An index over only the rows ``where`` holds (SQLite and PostgreSQL both have them)."""
    return Index(name, *columns, unique=unique, sqlite_where=where, postgresql_where=where)


# Constraints and partial indexes refer to the columns, so they follow the tables.
tip_votes.append_constraint(
    CheckConstraint(tip_votes.c.vote.in_(["useful", "not-useful"]), name="vote")
)
_deliveries = tip_deliveries.c
_partial_index(
    "tip_deliveries_pending",
    _deliveries.status,
    _deliveries.due_at,
    _deliveries.id,
    where=_deliveries.status == "pending",
)
_partial_index(
    "tip_deliveries_sending",
    _deliveries.status,
    _deliveries.id,
    where=_deliveries.status == "sending",
)
_partial_index(
    "tip_deliveries_request",
    _deliveries.request_key,
    unique=True,
    where=_deliveries.request_key.is_not(None),
)


class Unindexed(ColumnElement):
    """A column that SQLite must not reach through an index (``+column``): a query that
    already narrows by primary key would otherwise be planned over a wider index. Other
    databases plan for themselves, so there it is the bare column."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement):
        self.column = column
        self.type = column.type


@compiles(Unindexed)
def _unindexed(element: Unindexed, compiler, **kw) -> str:
    return compiler.process(element.column, **kw)


@compiles(Unindexed, "sqlite")
def _unindexed_sqlite(element: Unindexed, compiler, **kw) -> str:
    return "+" + compiler.process(element.column, **kw)
