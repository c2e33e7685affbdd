"""People's names on incidents: looked up through the platform once, then cached.

An incident shows people by name (commander, assignee, who acknowledged, the
timeline, the report), never by a platform id such as ``web:duty-officer``. A name
comes from the neutral transport's ``lookup`` (Slack ``users.info``: a Slack delivery
carries only the handle; Teams asks the conversation's roster; the web chat reads its
users file), else from the delivery itself (Teams' ``from.name``, a Slack mention's
``<@U123|name>``). Each name is kept in memory for :data:`FRESH` (so a busy incident
asks the platform once an hour, and a failing lookup is not retried for
:data:`RETRY_MISS`), and it is stored with the incident wherever the person is recorded
(commander, assignee, acknowledgement, timeline), so what is shown after a restart
needs no lookup.

Names are people's own text: each is made inert and cut to :data:`text_limits.PERSON`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.inert import one_line
from bot.core.model import Actor, Place
from incidents import text_limits

if TYPE_CHECKING:
    from bot.core import Services
    from incidents.store import IncidentStore

log = logging.getLogger(__name__)

FRESH = timedelta(hours=1)
RETRY_MISS = timedelta(minutes=5)
MAX_KEPT = 5000  # people remembered at once; the oldest go first


def clean_name(name: str) -> str:
    return one_line(text_limits.clean(name or ""), text_limits.PERSON)


class Names:
    """Display names by actor key (``slack:U123``), cached with an expiry."""

    def __init__(self, services: Services, store: IncidentStore):
        self.services = services
        self.store = store
        self._kept: dict[str, tuple[str, datetime]] = {}  # key -> (name or "", until)

    def _now(self) -> datetime:
        return self.services.clock.now()

    def _fresh(self, key: str) -> str | None:
        """The cached name ("" for a recent failed lookup), or None to look it up."""
        kept = self._kept.get(key)
        if kept is None or kept[1] <= self._now():
            return None
        return kept[0]

    def _keep(self, key: str, name: str) -> None:
        if len(self._kept) >= MAX_KEPT:
            del self._kept[next(iter(self._kept))]
        self._kept.pop(key, None)
        self._kept[key] = (name, self._now() + (FRESH if name else RETRY_MISS))

    async def known(self, key: str) -> str:
        """The best name without asking the platform (for sync callers such as the
        pager): cached, else stored with an incident, else the plain id."""
        return self._fresh(key) or await self.store.people.name_of(key) or plain_id(key)

    async def name(
        self,
        platform: str,
        workspace: str,
        user_id: str,
        *,
        hint: str = "",
        where: Place | None = None,
    ) -> str:
        """The person's display name. ``hint`` is a name the delivery itself carried
        (used when the platform can't say); ``where`` is the conversation the person was
        named in (Teams looks them up in its roster)."""
        key = f"{platform}:{user_id}"
        cached = self._fresh(key)
        if cached is None:
            cached = clean_name(await self._lookup(platform, workspace, user_id, where))
            self._keep(key, cached)
        return cached or clean_name(hint) or await self.store.people.name_of(key) or plain_id(key)

    async def _lookup(
        self, platform: str, workspace: str, user_id: str, where: Place | None
    ) -> str:
        transport = self.services.transports.get(platform)
        if transport is None:
            return ""
        try:
            found = await transport.lookup(workspace, user_id, where)
        except Exception as e:  # noqa: BLE001 - a name is nice to have, never a failure
            log.info("could not look a person up on %s: %s", platform, type(e).__name__)
            return ""
        return found.name if found is not None else ""

    async def named(self, actor: Actor, where: Place) -> Actor:
        """The acting person, with their display name."""
        if not actor.user_id:
            return actor
        name = await self.name(
            actor.platform, where.workspace, actor.user_id, hint=actor.name, where=where
        )
        return actor if name == actor.name else replace(actor, name=name)


def plain_id(key: str) -> str:
    """The platform id without its platform (``duty-officer`` for ``web:duty-officer``):
    the last resort, when nobody has said the person's name."""
    return key.partition(":")[2] or key
