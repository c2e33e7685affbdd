"""The incident tables, declared once on the shared MetaData (storage v2).

They describe exactly what the ``incidents`` migration steps leave on disk (frozen in
``bot/storage/migrations/legacy.py``, plus revision 0002): the same tables, columns,
types, defaults and index names, so a file made by an older secbot is read by these
declarations unchanged. The stores build every query from them with SQLAlchemy Core.

Every time column is :class:`~bot.storage.sql.UtcDateTime`. Older rows hold plain
``isoformat()`` text, which it reads back unchanged; new rows are written in its fixed
width, which orders the same way for every time that is not a whole second.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, Table, Text

from bot.storage.sql import UtcDateTime, metadata

# Column defaults as on disk (DEFAULT 0, DEFAULT '', DEFAULT '[]').
_ZERO, _EMPTY, _NONE = "0", "", "[]"

incident_sequence = Table(
    "incident_sequence",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("last", Integer, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Text, primary_key=True),
    Column("drill", Integer, nullable=False, server_default=_ZERO),
    Column("platform", Text),
    Column("account", Text),
    Column("symptoms", Text, nullable=False, server_default=_NONE),  # JSON list
    Column("flags", Text, nullable=False, server_default=_NONE),  # JSON list
    Column("has_access", Integer),  # the old yes/no answers (1, 0 or NULL)
    Column("harmful_live", Integer),
    Column("severity", Integer),
    Column("status", Text, nullable=False, server_default="triage"),
    Column("triage_step", Text, nullable=False, server_default="platform"),
    Column("reporter", Text, nullable=False),
    Column("reporter_name", Text, nullable=False, server_default=_EMPTY),
    Column("commander", Text, nullable=False),
    Column("commander_name", Text, nullable=False, server_default=_EMPTY),
    Column("department", Text),
    Column("summary", Text),
    Column("origin", Text, nullable=False),  # Place.to_json()
    Column("card_id", Text),
    Column("room", Text),  # Place.to_json()
    Column("checklist_id", Text),
    Column("team", Text),
    Column("acked_by", Text),
    Column("acked_by_name", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("triaged_at", UtcDateTime),
    Column("acked_at", UtcDateTime),
    Column("contained_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("tenant", Text),
    Column("delivery_key", Text),
    Column("access", Text),
    Column("harmful", Text),
    Column("personal_data", Text),
    Column("kind", Text),
    Column("owning_team", Text),  # the registered account's owning team (revision 0009)
    Index("incidents_status", "status"),
    Index("incidents_tenant", "tenant", "status"),
    Index("incidents_tenant_created", "tenant", "created_at"),
    Index("incidents_reporter", "reporter", "status", "created_at"),
)

incident_steps = Table(
    "incident_steps",
    metadata,
    Column("incident_id", Text, ForeignKey("incidents.id"), primary_key=True),
    Column("step_id", Text, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("phase", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("link", Text),
    Column("status", Text, nullable=False, server_default="open"),
    Column("by_key", Text),
    Column("by_name", Text),
    Column("at", UtcDateTime),
    Column("reason", Text),
    Column("assignee", Text),
    Column("assignee_name", Text),
    Column("help_by", Text),
    Column("help_name", Text),
    Column("help_at", UtcDateTime),
)

incident_events = Table(
    "incident_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Text, ForeignKey("incidents.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("actor_name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("text", Text, nullable=False),
    Index("incident_events_incident", "incident_id", "id"),
)

incident_people = Table(
    "incident_people",
    metadata,
    Column("incident_id", Text, ForeignKey("incidents.id"), primary_key=True),
    Column("person", Text, primary_key=True),
    Column("name", Text, nullable=False, server_default=_EMPTY),
    Column("role", Text, nullable=False),
    Column("added_by", Text),
    Column("added_at", UtcDateTime, nullable=False),
)

incident_checklists = Table(
    "incident_checklists",
    metadata,
    Column("incident_id", Text, ForeignKey("incidents.id"), primary_key=True),
    Column("phase", Text),
    Column("close_summary", Text),
    Column("close_by", Text),
)

# A delivery starts at most one incident (a partial UNIQUE index, as on disk).
_delivery = incidents.c.delivery_key.is_not(None)
Index(
    "incidents_delivery",
    incidents.c.delivery_key,
    unique=True,
    sqlite_where=_delivery,
    postgresql_where=_delivery,
)
