"""Teams conversation references and people, kept for proactive messages."""

from __future__ import annotations

import json

from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ConversationReference,
)
from sqlite_utils import Database

# The schema is Alembic's: bot/storage/migrations/ (this domain's steps from before are
# frozen in bot/storage/migrations/legacy.py; a change is a new revision).


class ConversationStore:
    """Conversation references, kept from every authenticated activity, for proactive
    messages. Only the front door calls ``save``, and only after the activity passed."""

    def __init__(self, db: Database):
        self.db = db

    def save(self, activity: Activity, now: str, trust: str) -> None:
        ref = TurnContext.get_conversation_reference(activity)
        conv = activity.conversation
        self.db.execute(
            "INSERT INTO teams_conversations (conversation_id, reference, tenant_id, is_personal,"
            " active, updated_at, trust) VALUES (?, ?, ?, ?, 1, ?, ?)"
            " ON CONFLICT(conversation_id) DO UPDATE SET reference = excluded.reference,"
            " tenant_id = excluded.tenant_id, active = 1, updated_at = excluded.updated_at,"
            " trust = excluded.trust",
            [
                conv.id,
                json.dumps(ref.serialize()),
                conv.tenant_id,
                int((conv.conversation_type or "personal") == "personal"),
                now,
                trust,
            ],
        )

    def remember_user(self, activity: Activity, now: str) -> None:
        user = activity.from_property
        if user is None or not user.id:
            return
        self.db.execute(
            "INSERT INTO teams_users (user_id, teams_id, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET teams_id = excluded.teams_id,"
            " updated_at = excluded.updated_at",
            [user.aad_object_id or user.id, user.id, now],
        )

    def teams_id(self, user_id: str) -> str | None:
        row = self.db.execute(
            "SELECT teams_id FROM teams_users WHERE user_id = ?", [user_id]
        ).fetchone()
        return row[0] if row else None

    def get(self, conversation_id: str) -> tuple[ConversationReference, str | None] | None:
        """The stored reference and how it was vouched for (see the ``trust`` column)."""
        row = self.db.execute(
            "SELECT reference, trust FROM teams_conversations WHERE conversation_id = ?",
            [conversation_id],
        ).fetchone()
        return (ConversationReference().deserialize(json.loads(row[0])), row[1]) if row else None

    def is_active(self, conversation_id: str) -> bool | None:
        """Whether the bot is still in the conversation (None: never kept)."""
        row = self.db.execute(
            "SELECT active FROM teams_conversations WHERE conversation_id = ?", [conversation_id]
        ).fetchone()
        return bool(row[0]) if row else None

    def mark_inactive(self, conversation_id: str) -> None:
        self.db.execute(
            "UPDATE teams_conversations SET active = 0 WHERE conversation_id = ?", [conversation_id]
        )
