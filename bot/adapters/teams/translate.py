"""Reading a Teams activity: where it came from, who sent it, what was clicked or typed."""

from __future__ import annotations

import re
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
)

from bot.core.model import Actor, Place


def dict_of(value: Any) -> dict:
    """``value`` if it is a JSON object, else an empty one: free-form activity fields
    (value, channelData) can hold anything, and a surprise must not end the turn."""
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def tenant_of(activity: Activity) -> str:
    """The Entra tenant an activity belongs to ("" if none). Teams sends it as
    conversation.tenantId, which the Bot Framework's Python model maps from ``tenantID``
    and so leaves in ``additional_properties``; and in channelData.tenant.id."""
    conv = activity.conversation
    extra = dict_of(getattr(conv, "additional_properties", None))
    return (
        text_of(getattr(conv, "tenant_id", None))
        or text_of(extra.get("tenantId"))
        or text_of(dict_of(dict_of(activity.channel_data).get("tenant")).get("id"))
    )


def place_of(activity: Activity) -> Place:
    conv = activity.conversation
    channel_data = dict_of(activity.channel_data)
    team = text_of(dict_of(channel_data.get("team")).get("id"))
    tenant = tenant_of(activity)
    return Place(
        "teams",
        tenant or team or "",
        conv.id,
        is_direct=(conv.conversation_type or "personal") == "personal",
    )


def actor_of(activity: Activity) -> Actor:
    user = activity.from_property or ChannelAccount(id="", name="")
    return Actor("teams", user.aad_object_id or user.id or "", user.name or "")


def action_from(activity: Activity) -> tuple[str, str, dict[str, str]] | None:
    """(action_id, value, form) from an Action.Execute invoke or an Action.Submit message."""
    value = activity.value
    if not isinstance(value, dict):
        return None
    if activity.type == ActivityTypes.invoke:
        action = dict_of(value.get("action"))
        data = dict_of(action.get("data"))
        verb = text_of(action.get("verb")) or text_of(data.get("action_id"))
    else:
        data = value
        verb = text_of(data.get("action_id"))
    if not verb:
        return None
    form = {k: str(v) for k, v in data.items() if k not in ("action_id", "value")}
    field = text_of(data.get("input"))
    choice = data.get(field) if field else None
    val = str(choice if choice is not None else data.get("value", ""))
    return verb, val, form


def without_mention(activity: Activity) -> str:
    """The typed text without "@secbot", as botbuilder strips it; a mention entity of an
    odd shape leaves the text as it came rather than failing the turn."""
    if not activity.entities:
        return text_of(activity.text)
    try:
        return text_of(TurnContext.remove_recipient_mention(activity))
    except (AttributeError, TypeError, KeyError, ValueError):
        return text_of(activity.text)


_PERSON_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")


def person_mentions(activity: Activity, text: str) -> tuple[str, dict[str, str]]:
    """``text`` with each @mention of a person (not the bot) as ``<@id>``, and who they
    are: {id: the name Teams gave}. Teams writes a mention as ``<at>Sam Helper</at>`` in
    the text and names the person in an entity beside it; names have spaces, so a command
    reads one token instead (``assign SEC-1 <@id>``). The id is the Entra object id when the
    entity has one (Teams keys people by it, as the people picker does), else the Teams
    id, which the incident desk looks up in the conversation's roster. A mention of an odd
    shape is left as the words it came as."""
    found: dict[str, str] = {}
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in TurnContext.get_mentions(activity):
        props = dict_of(getattr(entity, "additional_properties", None))
        mentioned = dict_of(props.get("mentioned"))
        teams_id = text_of(mentioned.get("id"))
        person = text_of(mentioned.get("aadObjectId")) or teams_id
        shown = text_of(props.get("text"))
        if not teams_id or teams_id == bot_id or not _PERSON_ID.match(person):
            continue
        if not shown or shown not in text:
            continue
        text = text.replace(shown, f"<@{person}>", 1)
        found[person] = text_of(mentioned.get("name"))
    return text, found
