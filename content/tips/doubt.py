"""Settling a tip caught mid-post: a ledger row left ``sending`` when its poster stopped.

A row is ``sending`` from the commit right before its platform call until its outcome is
committed. If the instance is killed in between, or its post times out or loses its
connection after the request may have gone out (``PostInDoubt``: then it is not re-posted
by the Slack client's own retry either), the row stays ``sending`` until a lease runs out;
whether the channel got the tip is then in doubt.
Every post carries its row's id as an idempotency key (``tip_key``: on Slack, message
metadata), so whichever instance looks next asks the platform (``Transport.find_posted``,
from the row's ``sending`` time less ``SINCE_MARGIN``):

- **found**: recorded ``sent`` with the message's ts; never posted again;
- **absent**: back to ``pending``, and the fan-out posts it again (within the grace
  window, like any pending row; the move to ``sending`` is one conditional UPDATE, so of
  several instances exactly one posts it);
- **unknown** (Teams and the web chat, which can't tell; on Slack a missing
  ``channels:history``/``groups:history`` scope, a channel the bot is not a member of, a
  rate limit, an error): ``unknown``, never re-sent: at most once, as before.

Of several instances exactly one settles a row: it is taken with a lease of the taker's
own in one conditional UPDATE (still ``sending``; ``Leases.take_in_doubt``), the platform
is asked outside any transaction, and the outcome is written only while the taker still
holds it. A look is bounded to half the lease, so the hold does not run out meanwhile.
Outcomes are logged with ids only and counted in ``secbot_tip_in_doubt_total``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from prometheus_client import Counter

from bot.core import Sighting
from bot.metrics.registry import Metrics
from content.tips.store import PENDING, SENT, UNKNOWN, Claim, InDoubt, TipStore

if TYPE_CHECKING:
    from bot.core import Services

log = logging.getLogger(__name__)

# The search starts this long before the row became `sending`: clocks differ a little
# between secbot and the platform (a Slack ts is Slack's clock).
SINCE_MARGIN = timedelta(minutes=2)
# Rows taken a round, all looked for at once: each look is bounded to half the hold, so
# the whole round ends inside the hold (a crash's other rows wait for the next rounds).
TAKE = 8


def tip_key(delivery_id: int) -> str:
    """A tip post's idempotency key: its ledger row."""
    return f"tip:{delivery_id}"


class Doubts:
    """Takes the rows in doubt, asks the platforms, and settles them."""

    def __init__(self, services: Services, store: TipStore):
        self.services = services
        self.store = store
        self.outcomes: Counter | None = None
        metrics = services.find_feature(Metrics)
        if metrics is not None:
            self.outcomes = Counter(
                "secbot_tip_in_doubt", "Tip posts caught mid-post and settled, by outcome"
                " (found: it had arrived, recorded sent; absent: sent again; unknown: the"
                " platform can't tell, not sent again).",
                ["outcome"], registry=metrics.registry,
            )  # fmt: skip

    async def settle(self, now: datetime, claim: Claim) -> int:
        """Settle the rows in doubt this round; returns how many were taken. They are held
        under a name of their own (the instance's, marked ``/doubt``), so a late answer
        can never settle a row this instance's fan-out has since taken to post."""
        claim = Claim(f"{claim.owner}/doubt", claim.until)
        taken = await self.store.leases.take_in_doubt(now, claim, TAKE)
        if not taken:
            return 0
        # Well within the hold just taken, so nobody else takes a row while it is looked at.
        budget = max(0.5, (claim.until - now).total_seconds() / 2)
        async def one(doubt: InDoubt) -> None:
            sighting = await self.look(doubt, budget)
            await self.record(doubt, sighting, claim.owner)

        await asyncio.gather(*(one(d) for d in taken))
        return len(taken)

    async def look(self, doubt: InDoubt, budget: float) -> Sighting:
        """Ask the row's platform whether its post arrived (never raises)."""
        place = doubt.row.place
        transport = self.services.transports.get(place.platform) if place else None
        find = getattr(transport, "find_posted", None)
        if place is None or find is None:
            return Sighting.unknown("no transport to ask")
        try:
            async with asyncio.timeout(budget):
                sighting: Sighting = await find(
                    place, tip_key(doubt.row.id), doubt.since - SINCE_MARGIN
                )
                return sighting
        except TimeoutError:
            return Sighting.unknown("timed out")
        except Exception as e:  # noqa: BLE001 - a transport's bug: can't tell
            return Sighting.unknown(type(e).__name__)

    async def record(self, doubt: InDoubt, sighting: Sighting, owner: str) -> None:
        row, leases, now = doubt.row, self.store.leases, self.services.clock.now()
        if sighting.state == "found":
            ref = sighting.ref
            held = await leases.settle_in_doubt(
                row.id, owner, SENT, now, message_id=ref.id if ref else None
            )
            what = "it had arrived; recorded as sent"
        elif sighting.state == "absent":
            held = await leases.settle_in_doubt(
                row.id, owner, PENDING, now, error="not posted before its sender stopped"
            )
            what = "it had not arrived; sending it again"
        else:
            held = await leases.settle_in_doubt(
                row.id, owner, UNKNOWN, now, error=f"in doubt: {sighting.why}"[:200]
            )
            what = f"the platform can't tell ({sighting.why}); not sending it again"
        if not held:
            return  # another instance took it over meanwhile, and settles it
        if self.outcomes is not None:
            self.outcomes.labels(sighting.state).inc()
        level = logging.WARNING if sighting.state == "unknown" else logging.INFO
        log.log(
            level,
            "tips: delivery %d (subscription %d, %s) was being posted when its sender stopped: %s",
            row.id,
            row.subscription_id,
            row.local_date or row.kind,
            what,
        )
