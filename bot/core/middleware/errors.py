"""Middleware: anything a handler lets escape becomes one friendly private apology.

The log gets the kind of delivery and the command or action, never the message text
(it may hold personal data or secrets). If even the apology can't be sent, nobody was
told and the delivery is not done: the original error goes on to the adapter, which
keeps the delivery for another try and records the handler's error (not the apology's).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.core.model import Section, message

if TYPE_CHECKING:
    from bot.core.turn import Next, Turn

log = logging.getLogger("bot.core.router")

APOLOGY = "Sorry, something went wrong on our side. Please try again in a moment."


async def friendly_errors(turn: Turn, call_next: Next) -> None:
    incoming = turn.incoming
    try:
        await call_next(turn)
    except Exception as failure:
        log.exception(
            "handler failed for %s %s%s",
            incoming.kind,
            incoming.command or "",
            incoming.action_id or "",
        )
        try:
            await turn.responder.reply(message(APOLOGY, Section(APOLOGY), private=True))
        except Exception:
            log.warning("could not tell the person that their request failed")
            raise failure from None
