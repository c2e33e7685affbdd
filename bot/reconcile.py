"""Card reconciliation (issue 14 item 6): a kept card whose state was saved but whose
edit was lost (the process died in between, or the platform refused the edit) is brought
up to date by whichever instance claims it next.

The domain that keeps a card calls :meth:`CardReconciler.owe` just before it redraws the
card after a change, and :meth:`CardReconciler.drawn` once the edit went through. A card
still owed :data:`SETTLE_SECONDS` later (the edit never happened) is claimed with a lease
by one instance's reconciler, rendered from the saved state by the domain's renderer and
edited if what it shows differs from what was last drawn. Drawn cards are looked at again
every :data:`RECHECK_SECONDS`, at the cost of one render each when nothing changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from bot.core.clock import Clock, SystemClock
from bot.storage.leases import new_instance
from bot.storage.redraws import Redraws
from bot.storage.sql import DB_ERRORS
from bot.workers import Worker

log = logging.getLogger(__name__)

# How long an owed card waits for its own edit before the reconciler redraws it: longer
# than an edit takes, with the platform's retries, so a normal edit is never doubled.
SETTLE_SECONDS = 30.0
# How often a drawn card is looked at again anyway (an edit refused by the platform).
RECHECK_SECONDS = 3600.0
# How often the reconciler looks for cards that are due.
ROUND_SECONDS = 10.0

# A renderer: (subject, digest last drawn) -> (digest now shown, or None when it could not
# tell; whether to keep watching the card).
Redraw = Callable[[str, str | None], Awaitable[tuple[str | None, bool]]]


def digest(message: Any) -> str:
    """A short fingerprint of a rendered message (the neutral model's repr is stable)."""
    return hashlib.sha256(repr(message).encode()).hexdigest()[:32]


class CardReconciler:
    def __init__(self, db: Any, *, owner: str | None = None, clock: Clock | None = None):
        self.redraws = Redraws(db)
        self.owner = owner or new_instance()
        self.clock: Clock = clock or SystemClock()
        self.kinds: dict[str, Redraw] = {}
        self.worker = Worker("card-reconciler", self.step, every=ROUND_SECONDS, clock=self.clock)

    def add_kind(self, kind: str, redraw: Redraw) -> None:
        """Cards of ``kind`` are redrawn by ``redraw`` (the domain that keeps them)."""
        self.kinds[kind] = redraw

    def _in(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    async def owe(self, card: str, kind: str, subject: str) -> None:
        await self.redraws.owe(card, kind, subject, self._in(SETTLE_SECONDS))

    async def drawn(self, card: str, kind: str, subject: str, message: Any) -> None:
        await self.redraws.drawn(card, kind, subject, digest(message), self._in(RECHECK_SECONDS))

    async def step(self) -> float | None:
        """One round: claim the due cards, redraw those whose state moved on."""
        now = self.clock.now()
        for card in await self.redraws.claim(now, self.owner):
            redraw = self.kinds.get(card.kind)
            shown, keep = card.drawn, True
            if redraw is not None:
                try:
                    shown, keep = await redraw(card.subject, card.drawn)
                except DB_ERRORS:
                    raise  # the database is failing: the worker backs off
                except Exception:  # noqa: BLE001 - one card must not stop the others
                    log.exception("could not reconcile a card (%s)", card.kind)
            if shown is not None and shown != card.drawn:
                log.info("brought a %s up to date", card.kind)
            recheck = self._in(RECHECK_SECONDS) if keep else None
            await self.redraws.checked(card.card, shown, recheck, self.owner)
        return None
