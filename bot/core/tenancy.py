"""Which tenant a request comes from, and whether its workspace or tenant is allowed.

A tenant is one organisation's space on one platform: a Slack workspace (or, on
Enterprise Grid, the whole org), a Microsoft Teams tenant, or the local web chat. It
is written ``platform:id`` (``slack:E0123``, ``slack:T0123``, ``teams:<guid>``,
``web:local``). Incidents belong to the tenant they were reported in
(``incidents.access``); this module only names tenants and keeps out strangers.

The allow-lists themselves are middleware around the neutral router
(:mod:`bot.core.middleware.allow_list`), so every feature, present and future, is
covered without each adapter or handler having to remember.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.model import Place

if TYPE_CHECKING:
    from bot.settings import Settings


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
