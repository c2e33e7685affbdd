"""Middleware: each delivery runs under its own correlation id (see :mod:`bot.core.correlation`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.correlation import correlated

if TYPE_CHECKING:
    from bot.core.turn import Next, Turn


async def correlate(turn: Turn, call_next: Next) -> None:
    with correlated():
        await call_next(turn)
