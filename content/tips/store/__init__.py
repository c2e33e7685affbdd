"""All SQL for daily tips, one store per job over the same database.

- ``schema`` — the ``tips`` domain's migration steps (never edited or reordered).
- ``records`` — the row types (``Subscription``, ``Delivery``), the ledger statuses and
  timestamps as stored.
- ``subscriptions`` — one subscription per channel, its schedule and next due time.
- ``ledger`` — the delivery ledger and each channel's rotation (what was served).
- ``leases`` — which instance holds which ledger rows, and the posts left in doubt.
- ``votes`` — Useful / Not useful feedback.

Every method is ``async`` (storage v2); writes of more than one statement and
read-modify-writes run in one ``atomic`` transaction (``store.batch()`` groups many).

``TipStore`` holds one of each: ``store.subscriptions``, ``store.ledger``,
``store.leases``, ``store.votes``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.storage.sql import Db
from content.tips.store.leases import Leases
from content.tips.store.ledger import Ledger
from content.tips.store.records import (
    CANCELLED,
    FAILED,
    GONE,
    MISSED,
    PENDING,
    SENDING,
    SENT,
    UNKNOWN,
    Claim,
    Delivery,
    InDoubt,
    Subscription,
    batch,
    savepoint,
)
from content.tips.store.subscriptions import Subscriptions
from content.tips.store.votes import Votes

__all__ = [
    "CANCELLED",
    "FAILED",
    "GONE",
    "MISSED",
    "PENDING",
    "SENDING",
    "SENT",
    "UNKNOWN",
    "Claim",
    "Delivery",
    "InDoubt",
    "Ledger",
    "Subscription",
    "Subscriptions",
    "TipStore",
    "Votes",
]


class TipStore:
    """The tips stores over one database."""

    def __init__(self, db: Db):
        self.db = db
        self.subscriptions = Subscriptions(db)
        self.ledger = Ledger(db)
        self.leases = Leases(db)
        self.votes = Votes(db)

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """One transaction around many store calls (see ``records.batch``):
        ``async with store.batch():``."""
        async with batch(self.db):
            yield

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Undo the block's writes if it raises, keep the batch's (``records.savepoint``)."""
        async with savepoint(self.db):
            yield
