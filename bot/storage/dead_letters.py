"""Deliveries that kept failing, set aside for an admin instead of being tried for ever.

A kept delivery moves here after a bounded number of attempts or once it is old (see
``bot.adapters.slack.intake.SlackIntake``). Each row says, in plain words, when it came, by
which front door, which command or button it was and the class of the last error; the
body it keeps has had its tokens scrubbed. An admin can retry one (it goes back to the
inbox for one more try) or drop it (``/secbot deadletters``). Rows are deleted after the
inbox retention period (``SECBOT_INBOX_RETENTION_DAYS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Index, Integer, Table, Text, delete, func, insert, select

from bot.storage.inbox import inbox
from bot.storage.sql import Db, UtcDateTime, atomic, execute, inserted_id, metadata

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("what", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("dead_at", UtcDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Index("dead_letters_dead_at", "dead_at"),
    sqlite_autoincrement=True,
)


@dataclass(frozen=True)
class DeadLetter:
    id: int
    source: str
    kind: str
    what: str
    error: str
    attempts: int
    received_at: datetime
    dead_at: datetime
    payload: str


_LETTER = select(*(dead_letters.c[f] for f in DeadLetter.__dataclass_fields__))


class DeadLetters:
    def __init__(self, db: Db):
        self.db = db

    async def bury(
        self,
        entry_id: int,
        *,
        what: str,
        error: str,
        payload: str,
        now: datetime,
    ) -> int | None:
        """Move inbox row ``entry_id`` here (scrubbed ``payload``), in one transaction.
        None if the row is no longer kept (handled meanwhile, or buried by another)."""
        async with atomic(self.db):
            row = (
                await execute(
                    self.db,
                    select(inbox.c.source, inbox.c.kind, inbox.c.attempts, inbox.c.received_at)
                    .where(inbox.c.id == entry_id)
                    .with_for_update(),
                )
            ).first()
            if row is None:
                return None
            new = insert(dead_letters).values(
                source=row.source, kind=row.kind, what=what, error=error,
                attempts=row.attempts, received_at=row.received_at, dead_at=now,
                payload=payload,
            )  # fmt: skip
            letter = inserted_id(await execute(self.db, new))
            await execute(self.db, delete(inbox).where(inbox.c.id == entry_id))
        return letter

    async def list(self, limit: int = 20) -> list[DeadLetter]:
        query = _LETTER.order_by(dead_letters.c.id.desc()).limit(limit)
        return [DeadLetter(**r._mapping) for r in (await execute(self.db, query)).all()]

    async def count(self) -> int:
        query = select(func.count()).select_from(dead_letters)
        return int((await execute(self.db, query)).scalar_one())

    async def get(self, letter_id: int, *, lock: bool = False) -> DeadLetter | None:
        query = _LETTER.where(dead_letters.c.id == letter_id)
        r = (await execute(self.db, query.with_for_update() if lock else query)).first()
        return DeadLetter(**r._mapping) if r else None

    async def retry(self, letter_id: int) -> int | None:
        """Back to the inbox for one more try; returns the new inbox id, or None if there
        is no such dead letter. It keeps its attempts, so it is handled as a replay (its
        effects may be half done) and comes back here if this try fails too. Two admins
        retrying at once put it back once: the letter is read locked and deleted in the
        same transaction."""
        async with atomic(self.db):
            letter = await self.get(letter_id, lock=True)
            if letter is None:
                return None
            back = insert(inbox).values(
                source=letter.source, kind=letter.kind, payload=letter.payload,
                received_at=letter.received_at, attempts=max(letter.attempts, 1),
                last_error="retried by an admin",
            )  # fmt: skip
            kept = inserted_id(await execute(self.db, back))
            await execute(self.db, delete(dead_letters).where(dead_letters.c.id == letter_id))
        return kept

    async def drop(self, letter_id: int) -> bool:
        gone = delete(dead_letters).where(dead_letters.c.id == letter_id)
        return (await execute(self.db, gone)).rowcount == 1

    async def prune(self, before: datetime) -> int:
        old = delete(dead_letters).where(dead_letters.c.dead_at < before)
        return (await execute(self.db, old)).rowcount
