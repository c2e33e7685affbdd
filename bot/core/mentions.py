"""Who a command names, read from one word of what was typed.

One reader for every domain that takes a person in a command (``/compromised add``,
handover, training assignments): a Slack mention ``<@U123|name>`` (slash commands arrive
escaped), ``<@id>`` on another platform (a Teams @mention, whose name Teams gives beside
the text: ``Incoming.mentions``), ``@user-id`` or ``platform:user-id``. The name is made
inert and cut to ``limit``; "" means the mention carried none, so look the person up.
"""

from __future__ import annotations

import re

from bot.core.inert import inert, one_line

_SLACK_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|([^>]*))?>$")
_MENTION = re.compile(r"^<@([A-Za-z0-9_.:\-]{1,100})>$")
_PERSON = re.compile(r"^@?([A-Za-z0-9_.:\-]{1,100})$")
PLATFORMS = ("slack", "teams", "web")


def parse_person(
    token: str, platform: str, mentions: dict[str, str] | None = None, *, limit: int = 100
) -> tuple[str, str] | None:
    """(actor key, the name the mention carried or "") for one word, or None."""
    match = _SLACK_MENTION.match(token)
    if match and platform in ("slack", "test"):
        # The name in a Slack mention is Slack's, not typed freely: inert and cut to fit.
        return f"slack:{match.group(1)}", _name(match.group(2) or "", limit)
    match = _MENTION.match(token)
    if match:
        # Only a name the platform gave beside the text counts; a typed "|name" does not.
        ident = match.group(1)
        return f"{platform}:{ident}", _name((mentions or {}).get(ident, ""), limit)
    match = _PERSON.match(token)
    if not match:
        return None
    ident = match.group(1)
    head, sep, rest = ident.partition(":")
    if sep and head in PLATFORMS and rest:
        return ident, ""
    return f"{platform}:{ident}", ""


def _name(given: str, limit: int) -> str:
    return one_line(inert(given).strip(), limit)
