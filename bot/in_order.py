"""Deliveries in one conversation are handled in the order they arrived.

The Slack intake (``bot/adapters/slack/intake.py``) starts a delivery's handler only
once the one before it in the same conversation (a channel or a direct chat) has
*passed*: finished, or reached the point from which the rest is only telling people.
Deliveries in other conversations run meanwhile. A handler passes when it:

- starts answering (``Turn.reply`` or ``Turn.update_original``): what it decided is
  written by then, since nothing awaits the network inside a transaction; or
- queues a write for group commit (``bot/storage/batched.py``): writes commit in the
  order they were queued, so the next delivery's write is applied after this one's,
  whoever finishes first.

So a handler that reads, decides and writes in its own transactions is wholly in order;
one that hands its write to group commit lets the next delivery start while its commit
is still on the way, which keeps a burst in one busy channel from waiting commit by
commit. A handler that queues a write must queue its last deciding write there.

:class:`Lanes` keeps the order; the Slack intake and the web chat's door use it. This
module is below both ``bot.core`` and ``bot.storage``: it knows only a callback.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar, Token

# What the running delivery calls when it has passed (None outside an ordered delivery).
_PASS: ContextVar[Callable[[], None] | None] = ContextVar("secbot_in_order", default=None)


def begin(passed: Callable[[], None]) -> Token:
    """Called by an intake around one delivery's handling: ``passed`` lets the next."""
    return _PASS.set(passed)


def end(token: Token) -> None:
    _PASS.reset(token)


def passed() -> None:
    """The running delivery has reached its turn's end (see the module's docstring); a
    no-op outside an ordered delivery, and after the first call."""
    release = _PASS.get()
    if release is not None:
        release()


class Lanes:
    """One queue per conversation: a delivery's handling starts once the one that entered
    its lane before it has passed (or ended). Nothing is held for a lane nobody uses."""

    def __init__(self) -> None:
        # Per conversation, the "passed" future of the last delivery that entered it.
        self._last: dict[str, asyncio.Future[None]] = {}

    def __len__(self) -> int:
        return len(self._last)

    @asynccontextmanager
    async def turn(self, lane: str | None) -> AsyncIterator[None]:
        """``async with lanes.turn(conversation):`` handle one delivery in its turn (None:
        a delivery of no known conversation, handled at once). The place in the lane is
        taken when the block is entered, so enter in arrival order."""
        if lane is None:
            yield
            return
        before = self._last.get(lane)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last[lane] = mine

        def let_next() -> None:
            if not mine.done():
                mine.set_result(None)

        try:
            if before is not None and not before.done():
                await before
            token = begin(let_next)
            try:
                yield
            finally:
                end(token)
        finally:
            let_next()
            if self._last.get(lane) is mine:
                del self._last[lane]
