"""Who a command names: a mention (Slack's ``<@U123|name>``, a Teams ``<@id>`` with the
name Teams gave beside the text), ``@id``, or ``platform:id``; and the name people read,
looked up through the neutral transport (never shown as an id)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.core.inert import one_line

if TYPE_CHECKING:
    from bot.core import Turn

_SLACK_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|([^>]*))?>$")
_MENTION = re.compile(r"^<@([A-Za-z0-9_.:\-]{1,100})>$")
_PERSON = re.compile(r"^@?([A-Za-z0-9_.:\-]{1,100})$")
UNKNOWN = "someone secbot can't look up"
NAME_LIMIT = 100


def parse_person(token: str, platform: str, mentions: dict[str, str]) -> tuple[str, str] | None:
    """(actor key, the name the mention carried or "") for one word, or None."""
    match = _SLACK_MENTION.match(token)
    if match and platform in ("slack", "test"):
        return f"slack:{match.group(1)}", one_line(match.group(2) or "", NAME_LIMIT)
    match = _MENTION.match(token)
    if match:
        ident = match.group(1)
        return f"{platform}:{ident}", one_line(mentions.get(ident, ""), NAME_LIMIT)
    match = _PERSON.match(token)
    if not match:
        return None
    ident = match.group(1)
    head, sep, rest = ident.partition(":")
    if sep and head in ("slack", "teams", "web") and rest:
        return ident, ""
    return f"{platform}:{ident}", ""


async def name_of(turn: Turn, key: str, fallback: str = "") -> str:
    """The person's name from their platform, else ``fallback``, else a plain phrase."""
    platform, _, user_id = key.partition(":")
    transport = turn.services.transports.get(platform)
    if transport is not None and platform == turn.place.platform:
        try:
            found = await transport.lookup(turn.place.workspace, user_id, where=turn.place)
        except Exception:  # noqa: BLE001 - a lookup that fails leaves the fallback
            found = None
        if found is not None and found.name and found.name != user_id:
            return one_line(found.name, NAME_LIMIT)
    return one_line(fallback, NAME_LIMIT) if fallback else UNKNOWN


async def resolve(turn: Turn, key: str, given: str) -> tuple[str, str]:
    """(the person's key as the platform keys them, their name). A Teams @mention names
    the Teams id; the roster answers with the Entra object id the exam record is kept
    under, so the same person is one key everywhere."""
    platform, _, user_id = key.partition(":")
    transport = turn.services.transports.get(platform)
    if transport is not None and platform == turn.place.platform:
        try:
            found = await transport.lookup(turn.place.workspace, user_id, where=turn.place)
        except Exception:  # noqa: BLE001 - a lookup that fails leaves what was typed
            found = None
        if found is not None and found.user_id:
            name = found.name if found.name and found.name != found.user_id else given
            return f"{platform}:{found.user_id}", one_line(name or UNKNOWN, NAME_LIMIT)
    return key, one_line(given or UNKNOWN, NAME_LIMIT)
