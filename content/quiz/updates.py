"""Keeping a channel question's message current: edits collapse and rate limits are
honoured, so the last edit always shows the final count."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from bot.core import DeliveryFailed

log = logging.getLogger(__name__)

UPDATE_GAP = 1.0  # seconds between two edits of one channel message (Slack rate limits)
MAX_RETRIES = 3  # further tries of an edit the platform rate-limited
MAX_RETRY_WAIT = 30.0  # seconds; a longer Retry-After is cut to this
CALLER_WAIT = 5.0  # seconds a click waits for its edit before replying anyway


class MessageUpdates:
    """Keeps a channel question's message current with as few edits as possible.

    Each answer asks for an update; while one is in flight, further requests collapse
    into one more edit, which reads the state afresh. So the last edit always shows the
    final count (or the closed question), whatever order the clicks arrived in, and two
    hundred clicks in a second cost a handful of API calls, not two hundred. A caller
    waits only for the first edit that starts after its request, never for a whole
    burst, and for at most ``caller_wait`` seconds, so a Teams click still gets its
    private card promptly. An edit the platform rate-limits is tried again after its
    Retry-After (up to three times), so a lost edit can't leave a stale count showing.
    """

    def __init__(
        self,
        gap: float = UPDATE_GAP,
        max_wait: float = MAX_RETRY_WAIT,
        caller_wait: float = CALLER_WAIT,
    ):
        self.gap = gap
        self.max_wait = max_wait
        self.caller_wait = caller_wait
        self._waiting: dict[int, list[asyncio.Future]] = {}
        self._running: dict[int, asyncio.Future] = {}

    def __len__(self) -> int:
        """How many messages have an edit under way."""
        return len(self._running)

    async def request(
        self, key: int, update: Callable[[], Awaitable[None]], *, wait: bool = True
    ) -> None:
        """Ask for an edit. ``wait=False`` returns at once: for a delivery the platform
        has already been answered for, holding the handler open helps nobody."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(done)
        if key not in self._running:
            self._running[key] = asyncio.ensure_future(self._run(key, update))
        if not wait:
            return
        # Bounded, so a rate-limited platform never holds up a click's reply: the edit
        # still happens, just after the reply.
        await asyncio.wait({done}, timeout=self.caller_wait)

    async def _run(self, key: int, update: Callable[[], Awaitable[None]]) -> None:
        try:
            wait = 0.0
            retries = 0
            while self._waiting.get(key) or retries:
                if wait:
                    await asyncio.sleep(wait)
                wait = self.gap
                batch = self._waiting.pop(key, [])
                try:
                    await update()
                    retries = 0
                except DeliveryFailed as e:
                    log.warning("could not update quiz question %s: %s", key, e.reason)
                    # Rate limited: try again (reading the state afresh) once allowed, so
                    # the last edit is never a lost one. Callers don't wait for that.
                    if e.retry_after is not None and not e.permanent and retries < MAX_RETRIES:
                        retries += 1
                        wait = min(max(self.gap, e.retry_after), self.max_wait)
                    else:
                        retries = 0
                except Exception:
                    log.exception("could not update quiz question %s", key)
                    retries = 0
                finally:
                    _release(batch)
        finally:
            self._running.pop(key, None)
            _release(self._waiting.pop(key, []))

    async def idle(self) -> None:
        """Wait until no edit is in flight or queued (for shutdown and tests)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def drain(self, timeout: float) -> None:
        """At shutdown: let edits in flight finish for up to ``timeout`` seconds, then stop."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self.idle(), timeout)
        for task in list(self._running.values()):
            task.cancel()
        for task in list(self._running.values()):
            with suppress(asyncio.CancelledError):
                await task


def _release(waiters: list[asyncio.Future]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)
