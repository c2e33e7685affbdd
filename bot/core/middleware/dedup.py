"""Middleware: a delivery is handled once, whichever front door it came through.

Slack retries events and may deliver the same slash command twice; Teams may resend an
activity; the web chat page resends a message it got no answer for. The key is the
platform's own identity for the delivery (``Incoming.delivery_id``), kept in
:class:`bot.storage.deliveries.DeliveryStore`.

A turn with ``replay`` set (a delivery a dead process acknowledged but may not have
finished) is handled even if already claimed: the features' own uniqueness rules stop
a repeat. ``turn.on_accept`` (if an adapter gave one) runs once the delivery is known
to be new, in the same transaction as its claim, so a failure there leaves it unclaimed
for a retry and two copies arriving at once are accepted once.
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
        now = turn.services.clock.now()
        if key and turn.claimed:
            pass  # claimed by the intake, with its neighbours, in one statement
        elif key and not turn.replay:
            # ``on_accept`` commits with the claim: two copies arriving together are
            # accepted (and echoed) once, and a failed echo leaves the delivery unclaimed.
            turn.repeated = not await store.claim(key, now, then=turn.on_accept)
            if turn.repeated:
                log.info("ignoring repeated delivery %s", key)
                return
        elif key:  # a replay: claim it if it never was, and handle it either way
            await store.claim(key, now)
        elif turn.on_accept is not None:
            await turn.on_accept()
        await call_next(turn)

    return once
