"""What a platform's refusal means for one delivery.

A refusal (``DeliveryFailed``: a rate limit, a server error, no connection) means nothing
was posted. The row is retried by the one retry policy (``bot.retry.TIPS``: 30 s,
doubling, at most 15 minutes, with jitter), never sooner than a Retry-After, which also
holds back the workspace (Slack) or conversation (Teams); a retry that would land after
the grace window marks the row missed instead; a permanent refusal (archived channel, bot
removed) marks the channel gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core import WORKSPACE, DeliveryFailed
from bot.retry import TIPS
from bot.storage.pauses import RatePauses, SharedPauses
from content.tips.results import SendResult
from content.tips.store import FAILED, GONE, MISSED, Delivery, TipStore

if TYPE_CHECKING:
    from bot.core import Services
    from bot.core.model import Place

log = logging.getLogger(__name__)


class Refusals:
    """Turns a refusal into a result and the ledger write recording it; keeps the
    Retry-After pauses."""

    def __init__(self, services: Services, store: TipStore, grace: timedelta):
        self.services = services
        self.store = store
        self.grace = grace
        # Retry-After from a platform pauses the whole workspace (Slack's limits are per
        # workspace and method) or one conversation (Teams' limits are per conversation).
        # Kept in the database, so every instance honours them (bot/storage/pauses.py);
        # read in memory, synced once a round by the worker (``TipDelivery.tick``).
        self.paused = SharedPauses(RatePauses(services.db), "tips")

    @property
    def clock(self):
        return self.services.clock

    @staticmethod
    def pause_key(place: Place) -> tuple[str, str]:
        if place.platform == "slack":
            return place.platform, place.workspace
        return place.platform, place.channel

    def refused(
        self, row: Delivery, key: tuple[str, str], e: DeliveryFailed
    ) -> tuple[SendResult, Callable[[], object]]:
        """The platform said no, so nothing was posted: retry while within the grace window
        (send_ready marks it missed after that), unless the channel is gone.

        Returns the result and the ledger write recording it; the workspace pause takes
        effect at once, before the write is committed."""
        now = self.clock.now()
        store = self.store
        if e.scope == WORKSPACE:
            # Not this channel's doing: the channel stays subscribed, and the workspace is
            # paused (by the transport), so its other channels are not tried either.
            why = e.reason
            if not why.startswith("workspace paused"):
                why = f"workspace paused ({why})"
            return SendResult("failed", why), lambda: store.ledger.finish(row.id, FAILED, why, now)
        if e.permanent:
            log.warning(
                "tips: subscription %d is gone (%s); marking it inactive",
                row.subscription_id,
                e.reason,
            )

            async def gone() -> None:
                async with store.batch():  # the row and the subscription together
                    await store.ledger.finish(row.id, GONE, e.reason, now)
                    reason = f"gone: {e.reason}"
                    await store.subscriptions.deactivate(row.subscription_id, reason, now)

            return SendResult("gone", e.reason), gone
        if e.retry_after is not None:
            # Honour Retry-After exactly, and hold back every other post to the same
            # workspace (Slack) or conversation (Teams) until then.
            wait = timedelta(seconds=max(1.0, e.retry_after))
            until = now + wait
            if self.paused.get(key, now) < until:
                self.paused[key] = until
        else:
            # Exponential backoff with jitter, so thousands of refused channels do not all
            # come back in the same second.
            wait = timedelta(seconds=TIPS.delay(min(row.attempts, 10) + 1))
        if row.due_at + self.grace < now + wait:
            log.warning(
                "tips: delivery %d refused (%s) and the grace window ends before it could be "
                "retried; skipping it",
                row.id,
                e.reason,
            )
            return SendResult("missed", e.reason), lambda: store.ledger.finish(
                row.id, MISSED, e.reason, now
            )
        log.info(
            "tips: delivery %d refused (%s); retrying in %ds",
            row.id,
            e.reason,
            int(wait.total_seconds()),
        )
        return SendResult("retry", e.reason), lambda: store.ledger.retry_later(
            row.id, now + wait, e.reason, now
        )
