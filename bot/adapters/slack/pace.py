"""How far the front door may run ahead of the handling behind it.

The front door only verifies, keeps and acknowledges (``door.py``); the work follows
from the inbox (``intake.py``). Keeping is a single statement that goes ahead of the
handling side's writes, so under a sustained burst the door could acknowledge several
times faster than deliveries are handled, and the backlog (and Slack's wait for the
effects: a question posted, an answer counted) would grow for as long as the burst
lasted. So the door keeps at most :data:`AHEAD` deliveries ahead of this process's
handlers; beyond that a request waits for handlers to finish some, for at most
:data:`MAX_WAIT_SECONDS` (well inside Slack's three seconds), before it is kept.

The count is this process's: deliveries it kept, less those its consumer finished. With
several instances another may handle what this one kept, so whenever this consumer
finds nothing more waiting in the inbox the count restarts from what it has in hand.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import suppress

# Deliveries kept and not yet handled, beyond which the door waits. A burst below it is
# acknowledged as fast as it can be kept; the consumer claims up to 256 rows a round, and
# a backlog of 256 is handled in about a third of a second. Under a sustained load the
# door then acknowledges as fast as deliveries are handled, whatever this number is (at
# concurrency 64 Slack has at most 64 requests open); it only bounds the backlog.
AHEAD = 256
# The longest a request waits for that room: then it is kept anyway.
MAX_WAIT_SECONDS = 1.0


class Pace:
    """Tickets for keeping: :meth:`enter` takes one (waiting, first come first served,
    while ``limit`` are out), :meth:`finished` gives one back when a handler is done with
    a delivery (or the door failed to keep it)."""

    def __init__(self, ahead: int | None = None, max_wait: float | None = None):
        self.limit = AHEAD if ahead is None else ahead
        self.max_wait = MAX_WAIT_SECONDS if max_wait is None else max_wait
        self.ahead = 0  # let in by the door and not yet finished by this process's consumer
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def enter(self) -> None:
        """Wait (at most ``max_wait``) until the door is less than ``limit`` ahead."""
        if self.ahead >= self.limit or self._waiting:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await asyncio.wait_for(asyncio.shield(waiter), self.max_wait)
            except TimeoutError:
                pass  # kept anyway: Slack's clock matters more than the backlog
            finally:
                if not waiter.done():
                    waiter.cancel()
                    with suppress(ValueError):
                        self._waiting.remove(waiter)
        self.ahead += 1

    def finished(self, n: int = 1) -> None:
        self.ahead = max(0, self.ahead - n)
        self._admit()

    def caught_up(self, in_hand: int) -> None:
        """The consumer found no more kept rows waiting: only those it has in hand, and
        those the door is keeping now, are ahead (the rest were handled, here or by
        another instance)."""
        self.ahead = min(self.ahead, in_hand + self.limit // 8)
        self._admit()

    def _admit(self) -> None:
        room = self.limit - self.ahead
        while room > 0 and self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                room -= 1
