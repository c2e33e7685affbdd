"""Finding a post by its idempotency key in a Slack channel's history.

A post made with a key (``SlackTransport.post(..., key=...)``) carries it as message
metadata: ``{"event_type": "secbot_post", "event_payload": {"key": "<key>"}}``
(docs.slack.dev/messaging/message-metadata). ``conversations.history`` returns the
metadata only when asked (``include_all_metadata=true``), newest first, from ``oldest``
on, a page at a time (``cursor``, ``response_metadata.next_cursor``).

What each answer needs, and when it is "unknown" (the caller then must not post again):

- the bot's token needs ``channels:history`` (public channels) or ``groups:history``
  (private ones); without it Slack answers ``missing_scope``, which here is an unknown
  and does **not** pause the workspace (posting still works);
- the bot must be a member of the channel: ``chat:write.public`` lets secbot post in a
  public channel it was never added to, but Slack answers ``not_in_channel`` to reading
  that channel's history: unknown;
- a direct message addressed by user id, a thread (a reply is not in the channel's
  history), a rate limit, an error, or a history longer than ``PAGES`` pages since
  ``since``: unknown.

Slack's rate limit for this method is Tier 3 (about 50 a minute per workspace) for
internal and Marketplace apps; commercially distributed non-Marketplace apps get far
less (docs.slack.dev/reference/methods/conversations.history). A look is made only for a
post cut off in the middle, a handful after a crash, not one per tip.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.model import MessageRef, Place
from bot.core.posted import Sighting

log = logging.getLogger(__name__)

EVENT_TYPE = "secbot_post"
PAGE = 200  # messages a page (Slack suggests no more than 200)
PAGES = 5  # pages looked through at most: 1,000 messages since the post started


def metadata(key: str) -> dict[str, Any]:
    """The message metadata that carries a post's idempotency key."""
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key}}


def carries(message: Any, key: str) -> bool:
    meta = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(meta, dict) or meta.get("event_type") != EVENT_TYPE:
        return False
    payload = meta.get("event_payload")
    return isinstance(payload, dict) and payload.get("key") == key


async def find_posted(client: AsyncWebClient, place: Place, key: str, since: datetime) -> Sighting:
    if place.thread:
        return Sighting.unknown("thread")  # replies are not in the channel's history
    if place.is_direct and not place.channel.startswith("D"):
        return Sighting.unknown("direct message by user id")  # no channel id to read
    oldest = f"{since.timestamp():.6f}"
    cursor: str | None = None
    try:
        for _ in range(PAGES):
            page = await client.conversations_history(
                channel=place.channel,
                oldest=oldest,
                limit=PAGE,
                include_all_metadata=True,
                cursor=cursor,
            )
            for message in page.get("messages") or ():
                if carries(message, key):
                    return Sighting.found(MessageRef(place, str(message.get("ts"))))
            cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                return Sighting.absent()
    except SlackApiError as e:
        error = e.response.get("error") if e.response is not None else None
        return Sighting.unknown(str(error or "slack_error"))
    except Exception as e:  # noqa: BLE001 - a network error or a bad answer: can't tell
        return Sighting.unknown(type(e).__name__)
    return Sighting.unknown("history longer than searched")
