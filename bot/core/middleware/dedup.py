"""Middleware: a delivery is handled once, whichever front door it came through, and a
delivery resent after its handler died with its process is handled, not dropped.

Slack retries events and may deliver the same slash command twice; Teams may resend an
activity; the web chat page sends a message again (with the same request id) when it got
no answer. The key is the platform's own identity for the delivery
(``Incoming.delivery_id``), kept in :class:`bot.storage.deliveries.DeliveryStore`.

Two kinds of path:

- **Kept first** (``incoming.acknowledged``: Slack, Teams message activities): the
  delivery is in the inbox before it is handled, and a dead instance's kept rows are
  replayed, so the id is simply claimed and every copy is a repeat. A turn with
  ``replay`` set is handled even if already claimed: the features' own uniqueness rules
  stop a repeat.
- **Answered in the request** (the web chat, Teams invokes): nothing but the request
  holds the delivery, so the id is claimed with a lease while the handler runs (renewed
  as it goes) and marked finished afterwards. A copy that arrives meanwhile waits a
  moment (:data:`WAIT_SECONDS`) for the handler to finish, then is a repeat; if the
  handler is still going, the person is told it is still being worked on. A copy that
  finds the lease run out (the process died mid-handler) takes the claim over and is
  handled. A handler that failed without telling anyone gives the claim up at once.

``turn.on_accept`` (if an adapter gave one) runs once the delivery is known to be new,
in the same transaction as its claim, so a failure there leaves it unclaimed for a retry
and two copies arriving at once are accepted once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from bot.core.model import Section, message
from bot.storage.deliveries import Claim
from bot.storage.leases import RENEW_SECONDS
from bot.storage.sql import DB_ERRORS

if TYPE_CHECKING:
    from bot.core.clock import Clock
    from bot.core.turn import Middleware, Next, Turn
    from bot.storage.deliveries import DeliveryStore

log = logging.getLogger("bot.core.router")

# How long a copy of a delivery still being handled waits for that handler before it
# is answered: under Slack's 3 s and well inside a Teams invoke's time, and long enough
# for most handlers (a double click, the page's resend) to have finished.
WAIT_SECONDS = 2.0
WORKING = (
    "I'm still working on that. The answer will appear here shortly; if nothing appears"
    " within a minute, send it again."
)


def deduplicate(store: DeliveryStore) -> Middleware:
    async def once(turn: Turn, call_next: Next) -> None:
        key = turn.incoming.delivery_id
        now = turn.services.clock.now()
        if key and turn.claimed:
            pass  # claimed by the intake, with its neighbours, in one statement
        elif key and turn.replay:  # claim it if it never was, and handle it either way
            await store.claim(key, now)
        elif key and turn.incoming.acknowledged:
            turn.repeated = not await store.claim(key, now, then=turn.on_accept)
            if turn.repeated:
                log.info("ignoring repeated delivery %s", key)
                return
        elif key:
            await _while_claimed(store, turn, call_next, key)
            return
        elif turn.on_accept is not None:
            await turn.on_accept()
        await call_next(turn)

    return once


async def _while_claimed(store: DeliveryStore, turn: Turn, call_next: Next, key: str) -> None:
    """A delivery whose request waits for the answer: claimed with a lease, handled, and
    marked finished (see the module docstring)."""
    services = turn.services
    owner, clock = services.instance, services.clock
    # ``on_accept`` commits with a new claim: copies arriving together are accepted (and
    # echoed) once, and a failed echo leaves the delivery unclaimed.
    found = await store.begin(key, clock.now(), owner, then=turn.on_accept)
    if found is Claim.WORKING:
        found = await store.wait(key, owner, clock.now, WAIT_SECONDS)
    if not found.handle:
        turn.repeated = True
        log.info("ignoring repeated delivery %s (%s)", key, found.value)
        if found is Claim.WORKING:
            await turn.responder.reply(message(WORKING, Section(WORKING), private=True))
        return
    if found is Claim.TAKEN_OVER:
        log.warning("handling delivery %s, whose handler stopped with its process", key)
    renewing = asyncio.ensure_future(_renew(store, key, owner, clock))
    try:
        await call_next(turn)
    except BaseException:
        renewing.cancel()
        with contextlib.suppress(Exception):  # the lease runs out anyway
            await asyncio.shield(store.let_go(key, clock.now(), owner))
        raise
    renewing.cancel()
    try:
        await store.finish(key, clock.now(), owner)
    except DB_ERRORS as e:
        # Handled and answered, but not marked: a copy after the lease runs out would be
        # handled again, where the features' own uniqueness rules stop a repeat.
        log.error("could not mark delivery %s finished (%s)", key, type(e).__name__)


async def _renew(store: DeliveryStore, key: str, owner: str, clock: Clock) -> None:
    """Keep the claim while a slow handler runs, so no copy takes it over."""
    while True:
        await asyncio.sleep(RENEW_SECONDS)  # real time: the lease is about a live process
        with contextlib.suppress(*DB_ERRORS):
            await store.renew(key, clock.now(), owner)
