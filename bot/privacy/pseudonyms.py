"""Stable pseudonyms for erased people: "Person 3f2a9c".

An erased person's place in an incident record (reporter, commander, who ticked a step,
who wrote a timeline line) is kept, so the record still reads as it happened, with the
person replaced by a pseudonym: an HMAC of their platform id and workspace under a secret
key. The same person in the same workspace always gets the same pseudonym (the record
stays coherent: "Person 3f2a9c handed over to Person 81bd02"), and without the key
nobody can work back from a pseudonym to an id, even by trying every id in a workspace.

The key is ``SECBOT_PSEUDONYM_SECRET``; without it a random key is made once and kept in
the database (``privacy_keys``), which still stops a reader of a report or an export, but
not someone with the database itself: production sets the variable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import Column, Table, Text, select

from bot.storage.sql import Db, UtcDateTime, execute, metadata, upsert

privacy_keys = Table(
    "privacy_keys",
    metadata,
    Column("name", Text, primary_key=True),
    Column("secret", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

KEY_NAME = "pseudonyms"
PREFIX = "Person "
# The key columns of an erased person hold this instead of platform:id.
ERASED = "erased:"


async def secret_key(db: Db, configured: str | None, now: datetime) -> bytes:
    """The configured key, or the one kept in the database (made on first use; two
    processes making it at once keep the first)."""
    if configured:
        return configured.encode()
    made = secrets.token_hex(32)
    keep = upsert(privacy_keys).values(name=KEY_NAME, secret=made, created_at=now)
    await execute(db, keep.on_conflict_do_nothing(index_elements=[privacy_keys.c.name]))
    query = select(privacy_keys.c.secret).where(privacy_keys.c.name == KEY_NAME)
    return str((await execute(db, query)).scalar()).encode()


def code(key: bytes, workspace: str, person_key: str) -> str:
    """Six hex digits, stable per person per workspace."""
    digest = hmac.new(key, f"{workspace}\n{person_key}".encode(), hashlib.sha256)
    return digest.hexdigest()[:6]


def label(key: bytes, workspace: str, person_key: str) -> str:
    """What people read in place of the name: ``Person 3f2a9c``."""
    return PREFIX + code(key, workspace, person_key)


def erased_key(key: bytes, workspace: str, person_key: str) -> str:
    """What a key column holds in place of ``platform:id``: ``erased:3f2a9c``."""
    return ERASED + code(key, workspace, person_key)
