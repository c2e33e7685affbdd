"""Middleware: a delivery is handled once, whichever front door it came through.

Slack retries events and may deliver the same slash command twice; Teams may resend an
activity; the web chat page resends a message it got no answer for. The key is the
platform's own identity for the delivery (``Incoming.delivery_id``), kept in
:class:`bot.storage.deliveries.DeliveryStore`.

A turn with ``replay`` set (a delivery a dead process acknowledged but may not have
finished) is handled even if already claimed: the features' own uniqueness rules stop
a repeat. ``turn.on_accept`` (if an adapter gave one) runs once the delivery is known
to be new and before it is claimed, so a failure there leaves it unclaimed for a retry.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.turn import Middleware, Next, Turn
    from bot.storage.deliveries import DeliveryStore

log = logging.getLogger("bot.core.router")


def deduplicate(store: DeliveryStore) -> Middleware:
    async def once(turn: Turn, call_next: Next) -> None:
        key = turn.incoming.delivery_id
        if key and not turn.replay:
            if turn.on_accept is not None and store.seen(key):
                turn.repeated = True
            else:
                if turn.on_accept is not None:
                    turn.on_accept()
                turn.repeated = not store.claim(key, turn.services.clock.now())
            if turn.repeated:
                log.info("ignoring repeated delivery %s", key)
                return
        elif key:  # a replay: claim it if it never was, and handle it either way
            store.claim(key, turn.services.clock.now())
        elif turn.on_accept is not None:
            turn.on_accept()
        await call_next(turn)

    return once
