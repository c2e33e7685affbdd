"""``/compromised add <id> @person`` and ``/compromised people <id>``: who is on an incident.

Anyone already on an incident may add someone (they could tell them anyway, and this
way it is on the timeline); an admin can too. The list is what ``incidents.access``
checks: only these people, the paged team and admins see or change the incident.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.core.hints import typed
from bot.core.inert import one_line
from incidents import cards, text_limits

if TYPE_CHECKING:
    from bot.core import Turn
    from incidents.desk import IncidentDesk

_SLACK_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|([^>]*))?>$")
_MENTION = re.compile(r"^<@([A-Za-z0-9_.:\-]{1,100})>$")
_PERSON = re.compile(r"^@?([A-Za-z0-9_.:\-]{1,100})$")
ROLES = {
    "reporter": "reported it",
    "commander": "commander",
    "assignee": "has a step",
    "added": "added",
}


def parse_person(
    token: str, platform: str, mentions: dict[str, str] | None = None
) -> tuple[str, str] | None:
    """``<@U123|name>`` or ``<@U123>`` (a Slack mention: slash commands arrive escaped),
    ``<@id>`` on another platform (a Teams @mention, with its name in ``mentions``: see
    ``Incoming.mentions``), ``@user-id`` or ``platform:user-id`` → (actor key, the name
    the mention carried, or "" when it carried none: look the person up,
    ``incidents.names``)."""
    match = _SLACK_MENTION.match(token)
    if match and platform in ("slack", "test"):
        # The name in a mention is Slack's, not typed freely: made inert and cut to fit.
        name = one_line(text_limits.clean(match.group(2) or ""), text_limits.PERSON)
        return f"slack:{match.group(1)}", name
    match = _MENTION.match(token)
    if match:
        # Only a name the platform gave beside the text counts; a typed "|name" does not.
        ident = match.group(1)
        given = (mentions or {}).get(ident, "")
        return f"{platform}:{ident}", one_line(text_limits.clean(given), text_limits.PERSON)
    match = _PERSON.match(token)
    if not match:
        return None
    ident = match.group(1)
    head, sep, rest = ident.partition(":")
    if sep and head in ("slack", "teams", "web") and rest:
        return ident, ""
    return f"{platform}:{ident}", ""


async def add(desk: IncidentDesk, turn: Turn, rest: str) -> None:
    words = rest.split()
    if len(words) < 2 or len(words) > 11:
        await turn.reply(
            cards.note(
                f"Type: {typed(turn.place, 'compromised add <id> @person')}"
                " (up to 10 people at once)",
                private=True,
            )
        )
        return
    inc = await desk.access.find(turn, words[0])
    if inc is None:
        return
    people = [await desk.handover.named_person(turn, w) for w in words[1:]]
    if any(p is None for p in people):
        await turn.reply(cards.note("I can't tell who that is: type @their-id.", private=True))
        return
    added = []
    for key, name in (p for p in people if p is not None):
        if await desk.store.people.add(inc.id, key, name, "added", turn.actor.key, desk.now()):
            added.append(name)
    if not added:
        await turn.reply(cards.note(f"They are already on {inc.id}.", private=True))
        return
    names = ", ".join(added)
    await desk.event(inc, turn.actor, "people", f"Added {names}")
    await turn.reply(
        cards.note(f"{cards.drill(inc)}{names} can now see and work on {inc.id}.", private=True)
    )


async def people(desk: IncidentDesk, turn: Turn, rest: str) -> None:
    words = rest.split()
    inc = await desk.access.find(turn, words[0] if words else "")
    if inc is None:
        return
    lines = [
        f"{name or key} ({ROLES.get(role, role)})"
        for key, name, role in await desk.store.people.all(inc.id)
    ]
    team = f"; and team {inc.team}, who were paged" if inc.team else ""
    text = f"On {inc.id}: " + ", ".join(lines) + team + ". Admins can see it too."
    await turn.reply(cards.note(text, private=True))
