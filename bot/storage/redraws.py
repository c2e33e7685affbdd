"""What each kept card (a message secbot redraws as its state changes, such as an
incident's card) last showed, so a redraw lost in a crash is found and made again.

A row per card: ``drawn`` is a digest of the message as last drawn successfully, and
``due_at`` when to look at it again. The reconciler (``bot/reconcile.py``) claims due
rows with a lease (``bot/storage/leases.py``), renders each card from the saved state,
and edits the message only when the digest differs: so whichever instance claims a card
after a crash between saving the state and editing the message brings it up to date.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Column, Index, Table, Text, bindparam, delete, select, update

from bot.storage.leases import claim_params, claim_statement, lease_columns
from bot.storage.sql import UtcDateTime, execute, metadata, upsert

card_redraws = Table(
    "card_redraws",
    metadata,
    Column("card", Text, primary_key=True),  # e.g. "incident-card:SEC-2026-0001"
    Column("kind", Text, nullable=False),  # whose renderer redraws it ("incident-card")
    Column("subject", Text, nullable=False),  # what it shows (an incident id)
    Column("drawn", Text),  # the digest of the message last drawn (None: not known)
    Column("due_at", UtcDateTime, nullable=False),  # when to look at it again
    *lease_columns(),  # the instance looking at it now, until when
    Index("card_redraws_due", "due_at"),
)

_c = card_redraws.c
_CLAIM = claim_statement(
    card_redraws,
    _c.due_at <= bindparam("due_by"),
    (_c.due_at, _c.card),
    (_c.card, _c.kind, _c.subject, _c.drawn),
)


class Card(NamedTuple):
    card: str
    kind: str
    subject: str
    drawn: str | None


class Redraws:
    def __init__(self, db: Any):
        self.db = db

    async def owe(self, card: str, kind: str, subject: str, due: datetime) -> None:
        """The state ``card`` shows has changed and it is about to be redrawn: look at it
        at ``due`` unless a redraw goes through first (:meth:`drawn` moves the time on)."""
        stmt = upsert(card_redraws).values(card=card, kind=kind, subject=subject, due_at=due)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_c.card], set_={"due_at": stmt.excluded.due_at}
        )
        await execute(self.db, stmt)

    async def drawn(
        self, card: str, kind: str, subject: str, digest: str, recheck: datetime
    ) -> None:
        """The card now shows ``digest`` (an edit went through): look again at ``recheck``."""
        stmt = upsert(card_redraws).values(
            card=card, kind=kind, subject=subject, drawn=digest, due_at=recheck
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[_c.card],
            set_={"drawn": stmt.excluded.drawn, "due_at": stmt.excluded.due_at},
        )
        await execute(self.db, stmt)

    async def claim(self, now: datetime, owner: str, limit: int = 50) -> list[Card]:
        params = {**claim_params(now, limit, owner), "due_by": now}
        return [Card._make(r) for r in (await execute(self.db, _CLAIM, params)).all()]

    async def checked(
        self, card: str, digest: str | None, recheck: datetime | None, owner: str
    ) -> None:
        """Looked at: it shows ``digest``; look again at ``recheck`` (None: never, the card
        is final), and give the lease back."""
        mine = (_c.card == card) & (_c.claimed_by == owner)
        if recheck is None:
            await execute(self.db, delete(card_redraws).where(mine))
            return
        values: dict[str, Any] = {"due_at": recheck, "claimed_by": None, "lease_until": None}
        if digest is not None:
            values["drawn"] = digest
        await execute(self.db, update(card_redraws).where(mine).values(**values))

    async def due_at(self, card: str) -> datetime | None:
        """When ``card`` is looked at next (None: not watched)."""
        return (await execute(self.db, select(_c.due_at).where(_c.card == card))).scalar()

    async def get(self, card: str) -> Card | None:
        stmt = select(_c.card, _c.kind, _c.subject, _c.drawn).where(_c.card == card)
        r = (await execute(self.db, stmt)).first()
        return Card._make(r) if r else None
