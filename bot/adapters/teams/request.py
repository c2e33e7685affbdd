"""Reading a Bot Framework activity off the wire, before anyone trusts it.

The body is checked for shape with plain JSON first (cheap, and nothing hostile reaches
msrest's model deserialiser before the token is checked): it must be a JSON object no
deeper than real activities go, with a type, a serviceUrl, a conversation id and (if
present) a channelId, all strings. Anything else is a 400 with a plain reason.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError

from bot.http.json_body import fields_shaped, parse_json

# Teams activities nest a dozen levels at most (an Adaptive Card action's data inside
# value inside the activity); this leaves room and refuses bombs long before Python's
# recursion limit.
MAX_DEPTH = 64


class BadActivity(Exception):
    """The body is not a usable activity; the message says why, for the 400 answer."""


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def parse_body(raw: bytes) -> dict[str, Any]:
    """The activity as a plain dict, its envelope checked. Raises BadActivity.

    The front door reads the body with ``bot.http.json_body`` (which says more
    precisely what is wrong) and calls :func:`check_envelope`; this is the same for
    raw bytes."""
    try:
        body = parse_json(raw)
    except web.HTTPException:
        raise BadActivity("the body is not valid JSON in UTF-8") from None
    return check_envelope(body)


def check_envelope(body: Any) -> dict[str, Any]:
    """``body`` (parsed JSON) if it has an activity's envelope. Raises BadActivity."""
    if not isinstance(body, dict):
        raise BadActivity("the body is not a valid activity")
    if _too_deep(body):
        raise BadActivity("the activity is nested too deeply")
    if not isinstance(body.get("type"), str) or not body["type"]:
        raise BadActivity("the activity has no type")
    conversation = body.get("conversation")
    if (
        not isinstance(body.get("serviceUrl"), str)
        or not body["serviceUrl"]
        or not isinstance(conversation, dict)
        or not isinstance(conversation.get("id"), str)
        or not conversation["id"]
    ):
        raise BadActivity("the activity needs a serviceUrl and a conversation id")
    if not isinstance(body.get("channelId", ""), str):
        raise BadActivity("the activity's channelId must be a string")
    if not _fields_shaped(body):
        raise BadActivity("the body is not a valid activity")
    return body


# In an activity these are objects, these lists of objects, and these text. msrest, which
# turns the body into an Activity, does not check: it makes a string of a dict and None of
# a null list item, and both fail later, far from here (a reply to an id that is a dict).
_OBJECTS = ("from", "conversation", "recipient")
_LISTS = ("membersAdded", "membersRemoved", "entities", "attachments")
_TEXTS = ("type", "name", "serviceUrl", "text", "locale", "channelId")
MAX_ID = 1024


def _fields_shaped(body: dict[str, Any]) -> bool:
    if not fields_shaped(body, _OBJECTS, _LISTS):
        return False
    ids = [body.get("id"), body.get("replyToId")]
    ids += [body[k].get("id") for k in _OBJECTS if body.get(k)]
    ids += [m.get("id") for k in ("membersAdded", "membersRemoved") for m in body.get(k) or []]
    texts = [body.get(k) for k in _TEXTS]
    return all(i is None or _plain_id(i) for i in ids) and all(
        t is None or isinstance(t, str) for t in texts
    )


def _plain_id(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_ID and value.isprintable()


def to_activity(body: dict[str, Any]) -> Activity:
    """botbuilder's model of the (already authenticated) activity. Raises BadActivity."""
    try:
        activity = Activity().deserialize(body)
    except (DeserializationError, ValueError, TypeError, AttributeError, KeyError):
        raise BadActivity("the body is not a valid activity") from None
    if not activity.type or not activity.conversation or not activity.conversation.id:
        raise BadActivity("the body is not a valid activity")
    return activity
