"""Which tenant a request comes from, and the optional workspace and tenant allow-lists.

A tenant is one organisation's space on one platform: a Slack workspace (or, on
Enterprise Grid, the whole org), a Microsoft Teams tenant, or the local web chat. It
is written ``platform:id`` (``slack:E0123``, ``slack:T0123``, ``teams:<guid>``,
``web:local``). Incidents belong to the tenant they were reported in
(``incidents.access``); this module only names tenants and keeps out strangers.

The allow-lists are middleware around the neutral router (:class:`bot.core.Bot`), so
every feature, present and future, is covered without each adapter or handler having
to remember.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from bot.core.model import Message, Place, Section

if TYPE_CHECKING:
    from bot.core.router import Next, Turn
    from bot.settings import Settings

log = logging.getLogger(__name__)

REFUSED = (
    "secbot isn't set up for this workspace or organisation, so it can't help here. "
    "Ask whoever runs secbot to add it."
)


def tenant_of(place: Place) -> str:
    """The tenant a new record made here belongs to: on Enterprise Grid the org (one
    org's workspaces share their incidents), else the workspace or tenant."""
    return f"{place.platform}:{place.enterprise or place.workspace}"


def tenants_of(place: Place) -> tuple[str, ...]:
    """Every tenant key a person here belongs to: the Grid org and the workspace. The
    workspace matters for records made before the org id was recorded."""
    keys = [tenant_of(place), f"{place.platform}:{place.workspace}"]
    return tuple(dict.fromkeys(keys))


def allowed(settings: Settings, place: Place) -> bool:
    """False when an allow-list is set for the platform and the place is not on it."""
    if place.platform == "slack" and settings.slack_team_ids:
        return bool({place.workspace, place.enterprise} & settings.slack_team_ids)
    if place.platform == "teams" and settings.teams_tenant_ids:
        return place.workspace.lower() in settings.teams_tenant_ids
    return True


def allow_list(settings: Settings):
    """Middleware: refuse requests from a workspace or tenant not on the allow-list.

    Commands, clicks and Teams messages get one short private line; Slack channel
    events are dropped (answering would mean posting into a stranger's channel).
    Only ids are logged, never the text."""

    async def gate(turn: Turn, call_next: Next) -> None:
        place = turn.place
        if allowed(settings, place):
            await call_next(turn)
            return
        log.warning(
            "refused a %s from %s workspace %s%s (not on the allow-list), user %s",
            turn.incoming.kind,
            place.platform,
            place.workspace or "(none)",
            f" in org {place.enterprise}" if place.enterprise else "",
            turn.actor.user_id,
        )
        if place.platform == "slack" and turn.incoming.kind == "text":
            return
        with contextlib.suppress(Exception):  # the refusal must never turn into an error
            await turn.reply(Message(REFUSED, (Section(REFUSED),), private=True))

    return gate
