"""The register's tables (revision 0009): one row per account, one per person with
access, and CSV imports waiting for someone to confirm them.

An account belongs to one tenant; ``(tenant, platform, handle_key)`` is UNIQUE, so one
account is registered once per tenant however its handle is written. ``tools`` is a
JSON list of strings. A staged import keeps the parsed good rows of a CSV (JSON) until
its "Import" button is pressed: the register itself is not touched before then, which is
what makes the preview a dry run; ``applied_at`` is set by the one click that applies it.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from bot.storage.sql import UtcDateTime, metadata

register_accounts = Table(
    "register_accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("platform", Text, nullable=False),
    Column("handle", Text, nullable=False),
    Column("handle_key", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("team", Text, nullable=False),
    Column("team_key", Text, nullable=False),
    Column("owner_name", Text, nullable=False),
    Column("owner_id", Text, nullable=False),  # chat id on the tenant's platform, or ""
    Column("owner_email", Text, nullable=False),
    Column("two_factor", Text, nullable=False),
    Column("recovery_email", Text, nullable=False),
    Column("recovery_phone", Text, nullable=False),
    Column("recovery_holder", Text, nullable=False),
    Column("recovery_shared", Boolean, nullable=False),
    Column("verification", Text, nullable=False),
    Column("tools", Text, nullable=False),  # JSON list of strings
    Column("last_reviewed", Date),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", Text, nullable=False),  # a name
    Column("updated_by_key", Text, nullable=False),  # Actor.key
    UniqueConstraint("tenant", "platform", "handle_key"),
    Index("register_accounts_team", "tenant", "team_key"),
    Index("register_accounts_owner", "tenant", "owner_id"),
)

register_access = Table(
    "register_access",
    metadata,
    Column("account_id", Integer, nullable=False),
    Column("person_key", Text, nullable=False),  # Person.key
    Column("position", Integer, nullable=False),  # the order people were listed in
    Column("name", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("role", Text, nullable=False),
    PrimaryKeyConstraint("account_id", "person_key", name="pk_register_access"),
    Index("register_access_user", "user_id"),
)

register_imports = Table(
    "register_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("by_key", Text, nullable=False),  # only the person who shared the file applies it
    Column("filename", Text, nullable=False),
    Column("rows", Text, nullable=False),  # JSON: the good rows, parsed
    Column("created_at", UtcDateTime, nullable=False),
    Column("applied_at", UtcDateTime),
)
