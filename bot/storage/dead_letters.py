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
from sqlite_utils import Database

from bot.storage.db import transaction
from bot.storage.inbox import inbox
from bot.storage.sql import UtcDateTime, inserted_id, metadata, run

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
    def __init__(self, db: Database):
        self.db = db

    def bury(
        self,
        entry_id: int,
        *,
        what: str,
        error: str,
        payload: str,
        now: datetime,
    ) -> int | None:
        """Move inbox row ``entry_id`` here (scrubbed ``payload``), in one transaction.
        None if the row is no longer kept (handled meanwhile)."""
        with transaction(self.db):
            row = run(
                self.db,
                select(inbox.c.source, inbox.c.kind, inbox.c.attempts, inbox.c.received_at)
                .where(inbox.c.id == entry_id),
            ).first()  # fmt: skip
            if row is None:
                return None
            letter = inserted_id(run(
                self.db,
                insert(dead_letters).values(
                    source=row.source, kind=row.kind, what=what, error=error,
                    attempts=row.attempts, received_at=row.received_at, dead_at=now,
                    payload=payload,
                ),
            ))  # fmt: skip
            run(self.db, delete(inbox).where(inbox.c.id == entry_id))
        return letter

    def list(self, limit: int = 20) -> list[DeadLetter]:
        rows = run(self.db, _LETTER.order_by(dead_letters.c.id.desc()).limit(limit)).all()
        return [DeadLetter(**r._mapping) for r in rows]

    def count(self) -> int:
        return int(run(self.db, select(func.count()).select_from(dead_letters)).scalar_one())

    def get(self, letter_id: int) -> DeadLetter | None:
        r = run(self.db, _LETTER.where(dead_letters.c.id == letter_id)).first()
        return DeadLetter(**r._mapping) if r else None

    def retry(self, letter_id: int) -> int | None:
        """Back to the inbox for one more try; returns the new inbox id, or None if there
        is no such dead letter. It keeps its attempts, so it is handled as a replay (its
        effects may be half done) and comes back here if this try fails too."""
        with transaction(self.db):
            letter = self.get(letter_id)
            if letter is None:
                return None
            kept = inserted_id(run(
                self.db,
                insert(inbox).values(
                    source=letter.source, kind=letter.kind, payload=letter.payload,
                    received_at=letter.received_at, attempts=max(letter.attempts, 1),
                    last_error="retried by an admin",
                ),
            ))  # fmt: skip
            run(self.db, delete(dead_letters).where(dead_letters.c.id == letter_id))
        return kept

    def drop(self, letter_id: int) -> bool:
        gone = run(self.db, delete(dead_letters).where(dead_letters.c.id == letter_id))
        return gone.rowcount == 1

    def prune(self, before: datetime) -> int:
        return run(self.db, delete(dead_letters).where(dead_letters.c.dead_at < before)).rowcount
