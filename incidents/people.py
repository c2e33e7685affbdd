"""``/compromised add <id> @person`` and ``/compromised people <id>``: who is on an incident.

Anyone already on an incident may add someone (they could tell them anyway, and this
way it is on the timeline); an admin can too. The list is what ``incidents.access``
checks: only these people, the paged team and admins see or change the incident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.hints import typed
from bot.core.mentions import parse_person as mentions_parse
from incidents import cards, text_limits

if TYPE_CHECKING:
    from bot.core import Turn
    from incidents.desk import IncidentDesk

ROLES = {
    "reporter": "reported it",
    "commander": "commander",
    "assignee": "has a step",
    "added": "added",
    "dpo": "data protection officer",
}


def parse_person(
    token: str, platform: str, mentions: dict[str, str] | None = None
) -> tuple[str, str] | None:
    """(actor key, the name the mention carried or "") for one word: see
    :func:`bot.core.mentions.parse_person` (names cut to an incident's person limit)."""
    return mentions_parse(token, platform, mentions, limit=text_limits.PERSON)


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
