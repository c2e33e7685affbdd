"""Need-to-know for incidents: who may see and act on one, and the one way to look one up.

An incident belongs to the tenant it was reported in (a Slack workspace or Grid org,
a Teams tenant, the local web chat; see ``bot.core.tenancy``) and to its people:

- the reporter and the commander (past commanders too: they handed over, they stay);
- people added to it: ``add <id> @person``, a handover, a checklist step given to them;
- the paged team: the ``members`` of every routing-file team paged for it. We go by
  that explicit list, not by who happens to be in a channel, because channel
  membership changes without anyone deciding it and a page may land in a busy room;
- admins (``SECBOT_ADMINS``), within their own tenant.

Nobody else sees or changes it. Every handler gets incidents from user input through
:meth:`IncidentAccess.find`, which says the same words for an id that does not exist
and for one the caller may not see, so a refusal never tells a stranger that an id is
real. The readable id (``SEC-2026-0042``) grants nothing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.core import correlation
from bot.core.hints import typed
from bot.core.model import Actor, Place
from bot.core.tenancy import tenants_of
from incidents import cards
from incidents.store import Incident, IncidentStore, StartLimits, StartRefused

if TYPE_CHECKING:
    from bot.core import Services, Turn

_ID = re.compile(r"^SEC-\d{4}-\d{4,}$", re.IGNORECASE)


def not_found(place: Place, ident: str) -> str:
    """The one refusal for a missing id and for someone else's incident, word for word."""
    shown = (ident or "")[:40] or "(none)"
    return (
        f"I can't find incident {shown} among the incidents you're part of. Incident ids "
        f"look like SEC-2026-0042; type {typed(place, 'compromised status')} to see yours. If you "
        "should be on it, ask its commander to add you."
    )


class IncidentAccess:
    """The guard every incident handler goes through."""

    def __init__(self, services: Services, store: IncidentStore, pager: Any):
        self.services = services
        self.store = store
        self.pager = pager

    async def may_see(self, actor: Actor, place: Place, inc: Incident) -> bool:
        """Same tenant, and one of the incident's people or an admin."""
        if not inc.tenant or inc.tenant not in tenants_of(place):
            return False
        key = actor.key
        if key in (inc.reporter, inc.commander) or self.services.is_admin(actor):
            return True
        if await self.store.people.has(inc.id, key):
            return True
        return self.pager is not None and await self.pager.was_paged(inc.id, key)

    async def visible(
        self, actor: Actor, place: Place, incidents: list[Incident]
    ) -> list[Incident]:
        return [i for i in incidents if await self.may_see(actor, place, i)]

    async def lookup(self, actor: Actor, place: Place, ident: str) -> Incident | None:
        inc = await self.store.get(ident) if _ID.match(ident or "") else None
        return inc if inc is not None and await self.may_see(actor, place, inc) else None

    async def find(self, turn: Turn, ident: str) -> Incident | None:
        """The incident the caller names, or None after saying it can't be found."""
        inc = await self.lookup(turn.actor, turn.place, ident)
        if inc is None:
            await turn.reply(cards.note(not_found(turn.place, ident), private=True))
        else:
            correlation.about_incident(inc.id)  # the rest of this delivery's log lines
        return inc

    async def open_for(self, actor: Actor, place: Place) -> list[Incident]:
        """What ``status`` lists: open incidents of the caller's tenant they may see."""
        return await self.visible(actor, place, await self.store.in_tenants(tenants_of(place)))


# --- limits against abuse -------------------------------------------------------------


def start_limits(services: Services) -> StartLimits:
    """Read (and so check, at start-up) the start limits."""
    settings = services.settings
    return StartLimits(
        max_open_triage=settings.incident_max_open_triage,
        per_user_hour=settings.incident_max_per_user_hour,
        per_workspace_hour=settings.incident_max_per_workspace_hour,
    )


def refused_start(place: Place, e: StartRefused) -> str:
    """A friendly line saying which limit was reached and what to do instead."""
    status = typed(place, "compromised status")
    if e.kind == "open_triage":
        ids = ", ".join(e.open_ids)
        first = e.open_ids[0] if e.open_ids else "SEC-2026-0042"
        return (
            f"You already have {len(e.open_ids)} incidents still in triage ({ids}); "
            f"{e.limit} is the most one person can have open at once. Answer the questions "
            "on one of their cards to finish it, or close one you no longer need with "
            f"{typed(place, f'compromised close {first} <reason>')}. An admin can close them too."
        )
    if e.kind == "user_rate":
        return (
            f"You have started {e.limit} incidents in the last hour, the most one person "
            f"can. Carry on in one you have already started (type {status}), or ask a "
            "colleague or an admin to report this one. You can start another within the hour."
        )
    return (
        f"{e.limit} incidents have been started here in the last hour, the most one "
        f"workspace can. Carry on in one that is already open (type {status}), or ask an "
        "admin for help. You can start another within the hour."
    )
