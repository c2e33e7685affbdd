"""Reach one person privately, outside a delivery: their direct chat, or else a private
message through the conversation a request came from.

Why both: Slack and the web chat post to a person's direct chat by their id. Teams can
only open a 1:1 chat through a conversation the bot already has a reference for; its
transport does that itself for a direct place, through the newest trusted conversation
of the same tenant, so a message secbot starts on its own (a quarterly review, a
reminder) needs no origin. ``origin`` (the conversation a command was typed in) is the
fallback when that fails, through ``post_private``. Reminders and owners' messages
(training, access reviews, leavers) use this so they work on every front door without
knowing which one they are on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.model import Actor, Message, Place
from bot.core.turn import DeliveryFailed

if TYPE_CHECKING:
    from bot.core.turn import Services


async def reach(
    services: Services, person: Actor, workspace: str, msg: Message, origin: Place | None
) -> bool:
    """Send ``msg`` to ``person``; False when no way reached them (the caller logs)."""
    transport = services.transports.get(person.platform)
    if transport is None:
        return False
    try:
        await transport.post(transport.direct_place(workspace, person.user_id), msg)
        return True
    except DeliveryFailed:
        if origin is None or origin.platform != person.platform:
            raise
    await transport.post_private(origin, person, msg)
    return True
