"""Spacing out proactive tip posts, so a fan-out stays inside each platform's published
limits instead of only reacting to 429 responses.

- **Slack** allows ``chat.postMessage`` about one message per second per channel. A channel
  gets one tip a day, so this only matters when ``/tip send-now`` or the trying-out
  interval post to the same channel close together. Slack publishes no number for its
  workspace-wide limit, so that is left to ``429 Retry-After``, which pauses the whole
  workspace (see ``content/tips/refusals.py``).
- **Teams** (the Bot Connector) allows a bot 7 posts a second, 8 in 2 seconds, 60 in 30
  seconds and 1,800 an hour in one conversation, and an app 50 requests a second per
  tenant. One post per conversation every 2 seconds stays inside all four conversation
  limits, and posts to one tenant go at most 40 a second, leaving a fifth of the tenant's
  budget for people's own commands and clicks. A 429 still pauses the conversation.

Pacing uses the event loop's monotonic time, not the scheduler's clock: rate limits are
counted in real seconds even when tests move the schedule's clock by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.core.model import Place

# Seconds between two posts to one conversation, per platform.
PER_CONVERSATION: dict[str, float] = {"slack": 1.0, "teams": 2.0}
# Seconds between two posts to one workspace or tenant, per platform.
PER_WORKSPACE: dict[str, float] = {"teams": 1 / 40}


class Pacer:
    """Hands out send times: each post reserves the earliest slot that keeps its
    conversation and its workspace spaced out, then waits for it. Reserving before waiting
    keeps the order fair and makes each decision O(1), however many posts are queued."""

    def __init__(
        self,
        per_conversation: dict[str, float] | None = None,
        per_workspace: dict[str, float] | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ):
        self.per_conversation = dict(
            PER_CONVERSATION if per_conversation is None else per_conversation
        )
        self.per_workspace = dict(PER_WORKSPACE if per_workspace is None else per_workspace)
        self._monotonic = monotonic
        self._sleep = sleep or asyncio.sleep
        self._next: dict[tuple[str, ...], float] = {}
        self._prune_at = 1024
        self._loop: asyncio.AbstractEventLoop | None = None

    def _now(self) -> float:
        if self._monotonic is not None:
            return self._monotonic()
        # The loop's clock, which asyncio.sleep counts in, read once per post. Kept per
        # loop: asyncio.get_running_loop() costs a getpid() system call on every use.
        loop = self._loop
        if loop is None or loop.is_closed():
            loop = self._loop = asyncio.get_running_loop()
        return loop.time()

    def __len__(self) -> int:
        """How many conversations' next slots are remembered (old ones are pruned)."""
        return len(self._next)

    def reserve(self, place: Place) -> float:
        """Reserve the next slot for a post to ``place``; returns how long to wait for it."""
        now = self._now()
        platform = place.platform
        slots = self._next
        slot = now
        conversation = workspace = None
        conversation_gap = self.per_conversation.get(platform)
        if conversation_gap:
            conversation = ("c", platform, place.workspace, place.channel)
            slot = max(slot, slots.get(conversation, now))
        workspace_gap = self.per_workspace.get(platform)
        if workspace_gap:
            workspace = ("w", platform, place.workspace)
            slot = max(slot, slots.get(workspace, now))
        if conversation is not None:
            slots[conversation] = slot + conversation_gap  # type: ignore[operator]
        if workspace is not None:
            slots[workspace] = slot + workspace_gap  # type: ignore[operator]
        if len(slots) >= self._prune_at:
            self._prune(now)
        return slot - now

    async def wait(
        self, place: Place, before_sleep: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Wait for ``place``'s slot; ``before_sleep`` runs first if there is a wait."""
        delay = self.reserve(place)
        if delay > 0:
            if before_sleep is not None:
                await before_sleep()
            await self._sleep(delay)

    def _prune(self, now: float) -> None:
        # Slots in the past constrain nothing; dropping them keeps the map as small as the
        # number of conversations posted to in the last few seconds.
        self._next = {k: t for k, t in self._next.items() if t > now}
        self._prune_at = max(1024, 2 * len(self._next))
