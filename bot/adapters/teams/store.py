"""Teams conversation references and people, kept for proactive messages."""

from __future__ import annotations

import json
from datetime import datetime

from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ConversationReference,
)
from sqlalchemy import Column, Integer, Table, Text, select, update

from bot.adapters.teams.translate import tenant_of
from bot.storage.sql import Db, UtcDateTime, execute, metadata, upsert

teams_conversations = Table(
    "teams_conversations",
    metadata,
    Column("conversation_id", Text, primary_key=True),
    Column("reference", Text, nullable=False),
    Column("tenant_id", Text),
    Column("is_personal", Integer, nullable=False, server_default="0"),
    Column("active", Integer, nullable=False, server_default="1"),
    Column("updated_at", UtcDateTime, nullable=False),
    # How the reference was vouched for: 'token' (a validated Bot Framework token named
    # its serviceUrl) or 'development' (a loopback serviceUrl, no app id). Rows kept
    # before this column existed are NULL.
    Column("trust", Text),
)
# Who is who: an actor's key is their Entra (AAD) object id, but opening a 1:1 chat
# proactively needs their Teams id (29:...), which only arrives on their activities.
teams_users = Table(
    "teams_users",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("teams_id", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

_SAVE = upsert(teams_conversations)
_SAVE = _SAVE.on_conflict_do_update(
    index_elements=[teams_conversations.c.conversation_id],
    set_={
        "reference": _SAVE.excluded.reference,
        "tenant_id": _SAVE.excluded.tenant_id,
        "active": 1,
        "updated_at": _SAVE.excluded.updated_at,
        "trust": _SAVE.excluded.trust,
    },
)
_REMEMBER = upsert(teams_users)
_REMEMBER = _REMEMBER.on_conflict_do_update(
    index_elements=[teams_users.c.user_id],
    set_={"teams_id": _REMEMBER.excluded.teams_id, "updated_at": _REMEMBER.excluded.updated_at},
)


class ConversationStore:
    """Conversation references, kept from every authenticated activity, for proactive
    messages. Only the front door calls ``save``, and only after the activity passed."""

    def __init__(self, db: Db):
        self.db = db

    async def save(self, activity: Activity, now: datetime, trust: str) -> None:
        ref = TurnContext.get_conversation_reference(activity)
        conv = activity.conversation
        tenant = tenant_of(activity)
        if tenant and ref.conversation is not None:
            # Kept in the reference too, so a 1:1 chat opened through it names the tenant.
            ref.conversation.tenant_id = tenant
        row = {
            "conversation_id": conv.id,
            "reference": json.dumps(ref.serialize()),
            "tenant_id": tenant or None,
            "is_personal": int((conv.conversation_type or "personal") == "personal"),
            "active": 1,
            "updated_at": now,
            "trust": trust,
        }
        await execute(self.db, _SAVE, row)

    async def remember_user(self, activity: Activity, now: datetime) -> None:
        user = activity.from_property
        if user is None or not user.id:
            return
        row = {"user_id": user.aad_object_id or user.id, "teams_id": user.id, "updated_at": now}
        await execute(self.db, _REMEMBER, row)

    async def teams_id(self, user_id: str) -> str | None:
        query = select(teams_users.c.teams_id).where(teams_users.c.user_id == user_id)
        return (await execute(self.db, query)).scalar()

    async def get(self, conversation_id: str) -> tuple[ConversationReference, str | None] | None:
        """The stored reference and how it was vouched for (see the ``trust`` column)."""
        c = teams_conversations.c
        query = select(c.reference, c.trust, c.tenant_id).where(
            c.conversation_id == conversation_id
        )
        row = (await execute(self.db, query)).first()
        if row is None:
            return None
        return _reference(row.reference, row.tenant_id), row.trust

    async def of_tenant(
        self, tenant_id: str, limit: int = 20
    ) -> list[tuple[str, ConversationReference, str | None]]:
        """The tenant's conversations the bot is still in, newest first: (id, reference,
        trust) each. Any of them can open a 1:1 chat with someone of the same tenant who
        has never written to the bot. None for an empty tenant id: no tenant, no boundary."""
        if not tenant_id:
            return []
        c = teams_conversations.c
        query = (
            select(c.conversation_id, c.reference, c.trust, c.tenant_id)
            .where(c.tenant_id == tenant_id, c.active == 1)
            .order_by(c.updated_at.desc(), c.conversation_id)
            .limit(limit)
        )
        rows = (await execute(self.db, query)).all()
        return [(r.conversation_id, _reference(r.reference, r.tenant_id), r.trust) for r in rows]

    async def is_active(self, conversation_id: str) -> bool | None:
        """Whether the bot is still in the conversation (None: never kept)."""
        c = teams_conversations.c
        query = select(c.active).where(c.conversation_id == conversation_id)
        row = (await execute(self.db, query)).first()
        return bool(row.active) if row else None

    async def mark_inactive(self, conversation_id: str) -> None:
        c = teams_conversations.c
        gone = update(teams_conversations).where(c.conversation_id == conversation_id)
        await execute(self.db, gone.values(active=0))


def _reference(kept: str, tenant_id: str | None) -> ConversationReference:
    """A kept reference, with the tenant of its row when it lacks one (rows kept before
    the reference carried it)."""
    ref = ConversationReference().deserialize(json.loads(kept))
    if tenant_id and ref.conversation is not None and not ref.conversation.tenant_id:
        ref.conversation.tenant_id = tenant_id
    return ref
