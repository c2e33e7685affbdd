"""What the incident feature calls: start paging, acknowledge, resolve, and report.

pager = paging_setup(host)                # also services.feature(Pager)
pager.on_event = add_to_timeline          # async (incident_id, plain text)
await pager.start(IncidentInfo(...))      # snapshot the team's chain, page step 1 now
await pager.update(IncidentInfo(...))     # new facts; a raised severity may page another team
if await pager.can_acknowledge(iid, actor.key, services.is_admin(actor)):
    await pager.acknowledge(iid, actor.key)
await pager.resolve(iid)
await pager.pages(iid), await pager.acknowledged_at(iid)   # for the incident report
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.wakeups import Wakeups
from incidents.paging import chains
from incidents.paging.escalation import Engine
from incidents.paging.model import IncidentInfo, Notice, PageRecord, severity_change
from incidents.paging.outbox import Outbox, key_as_name
from incidents.paging.providers import DEFAULT_ACK_HINT, ProviderContext, build_providers
from incidents.paging.providers.pagerduty import dedup_key
from incidents.paging.routing import (
    RoutingConfig,
    Team,
    load_routing,
    member_matches,
)
from incidents.paging.store import PagingStore

if TYPE_CHECKING:
    from bot.core import Services

log = logging.getLogger(__name__)

FOLLOWUP = {"acknowledged": "acknowledge", "resolved": "resolve"}
OnEvent = Callable[[str, str], Awaitable[None]]
OnNotice = Callable[[str, Notice], Awaitable[None]]

__all__ = ["IncidentInfo", "PageRecord", "Pager", "RoutingConfig", "Team", "load_routing"]


class Pager:
    """Paging and escalation for incidents. One per app: ``services.feature(Pager)``."""

    def __init__(
        self,
        services: Services,
        routing: RoutingConfig,
        on_event: OnEvent | None = None,
    ):
        self.services = services
        self.routing = routing
        self.on_event = on_event
        # The same news said twice (a Notice: detail for admins, plain words for
        # everyone else), for a caller that shows it to people (the incident desk).
        self.on_notice: OnNotice | None = None
        # How a person acknowledges, shown in SMS, email and webhook text; "{id}" is
        # replaced by the incident id. The incident feature may set its own command.
        self.ack_hint = DEFAULT_ACK_HINT
        # How a person (an actor key) is named on a page ("Acknowledged by …") when no
        # name was stored with the acknowledgement. The incident feature names people;
        # on its own, paging shows the key.
        self.name_of: Callable[[str], Awaitable[str]] = key_as_name
        self.store = PagingStore(services.db)
        self.ctx = ProviderContext(services.settings, services.transports, services.clock)
        self.providers = build_providers(self.ctx)
        self.outbox = Outbox(
            self.store,
            self.providers,
            services.clock,
            self._emit,
            max_attempts=services.settings.paging_max_attempts,
            retry_base=services.settings.paging_retry_seconds,
            ack_hint=lambda: self.ack_hint,
            name_of=lambda key: self.name_of(key),  # the one set now, when it is asked
            rng=random.Random(),
        )
        self.engine = Engine(
            self.store, self.outbox, services.clock, self._emit, self.ctx, services.instance
        )
        # On PostgreSQL, new jobs and pages written here wake the other instances' paging
        # workers (LISTEN/NOTIFY, bot/wakeups.py), and theirs wake this one.
        wakeups = services.find_feature(Wakeups)
        if wakeups is not None:
            wakeups.on("paging", self.engine.worker.wake)
            self.engine.announce = lambda: wakeups.announce("paging")

    async def _emit(self, incident_id: str, news: str | Notice) -> None:
        notice = news if isinstance(news, Notice) else Notice(news, news)
        try:
            if self.on_event is not None:
                await self.on_event(incident_id, notice.detail)
            if self.on_notice is not None:
                await self.on_notice(incident_id, notice)
        except Exception:  # the timeline failing must never stop paging
            log.exception("paging: on_event failed for incident %s", incident_id)

    def team_for(self, info: IncidentInfo) -> Team:
        return self.routing.team_for(info)

    async def start(self, info: IncidentInfo) -> None:
        """Snapshot the team's chain and schedule step 1 now. Starting twice does nothing."""
        team = self.team_for(info)
        chain = chains.snapshot(self.routing, team)
        now = self.services.clock.now()
        async with self.engine.lock(info.id):
            created = await self.store.create_incident(
                info.id, info.to_json(), team.name, chain, info.drill, now
            )
        if not created:
            return
        steps = len(chain["steps"])
        rounds = chain["repeat"] + 1
        shape = f"{steps} step{'s' if steps != 1 else ''}" + (
            f", up to {rounds} rounds" if rounds > 1 else ""
        )
        drill = " This is a drill: only drill-safe targets will be paged." if info.drill else ""
        plain_drill = " This is a drill: only the ways that are safe for drills are used."
        await self._emit(
            info.id,
            Notice(
                f"Paging team {team.name} ({shape}).{drill}",
                f"Paging team {team.name}." + (plain_drill if info.drill else ""),
            ),
        )
        self.engine.wake()

    async def update(self, info: IncidentInfo) -> str | None:
        """The incident changed (its severity, say): pages still to come carry the new
        facts. When the severity went up and the routing rules now pick a different
        team, that team is paged from its first step at once, as if paging had just
        started for it: its chain is snapshotted, the old chain stops, and only the new
        team (or an admin) can acknowledge. Returns the new team's name when that
        happens, else None. Nothing happens for an incident that is resolved."""
        now = self.services.clock.now()
        async with self.engine.lock(info.id):
            row = await self.store.incident(info.id)
            if row is None or row.state == "resolved":
                return None
            was = int(row.info.get("severity") or 4)
            team = self.team_for(info)
            if info.severity >= was or team.name == row.team:
                await self.store.set_info(info.id, info.to_json())
                return None
            old = row.chain
            chain = chains.snapshot(self.routing, team)
            chain["offset"] = int(old.get("offset", 0)) + len(old["steps"]) + 1
            chain["history"] = [
                *chains.history(old),
                {"team": team.name, "offset": chain["offset"]},
            ]
            # Teams paged earlier stay among the incident's people (incidents.access).
            chain["members_before"] = [*old.get("members_before", []), *old.get("members", [])]
            # Pages of the old chain still being retried may need their fallbacks.
            chain["targets"] = {**old.get("targets", {}), **chain["targets"]}
            if not await self.store.reroute(info.id, info.to_json(), team.name, chain, now):
                return None
        steps = len(chain["steps"])
        shape = f"{steps} step{'s' if steps != 1 else ''}"
        await self._emit(
            info.id,
            f"{severity_change(was, info.severity)}: paging team {team.name}"
            f" ({shape}) instead of {row.team}. Only {team.name} or an admin can"
            " acknowledge now.",
        )
        self.engine.wake()
        return team.name

    async def can_acknowledge(self, incident_id: str, actor_key: str, is_admin: bool) -> bool:
        """Admins, and members of the team paged for this incident (as it was snapshotted)."""
        if is_admin:
            return True
        inc = await self.store.incident(incident_id)
        if inc is None:
            return False
        return member_matches(inc.chain.get("members", []), actor_key)

    async def was_paged(self, incident_id: str, actor_key: str) -> bool:
        """Whether the person is a member of a team paged for this incident, now or
        before a re-route: the paged team is among the incident's people."""
        inc = await self.store.incident(incident_id)
        if inc is None:
            return False
        members = [*inc.chain.get("members", []), *inc.chain.get("members_before", [])]
        return member_matches(members, actor_key)

    async def acknowledge(self, incident_id: str, actor_key: str, name: str = "") -> bool:
        """Stop escalating and tell PagerDuty (and update chat pages, which say ``name``).
        False if it was already acknowledged or resolved, or paging never started for it."""
        async with self.engine.lock(incident_id):
            changed = await self.store.stop(
                incident_id,
                "acknowledged",
                self.services.clock.now(),
                actor_key,
                self.outbox.followups("acknowledge"),
                name,
            )
        if changed:
            self.engine.wake()
        return changed

    async def incident_for_key(self, key: str) -> str | None:
        """Our incident whose PagerDuty ``dedup_key`` (or generic webhook incident id)
        is ``key``; None when paging never started for one."""
        if await self.store.incident(key) is not None:
            return key
        if key.startswith("secbot-"):  # a hashed key (ids over 255 characters)
            return next((i for i in await self.unresolved() if dedup_key(i) == key), None)
        return None

    async def stopped_elsewhere(
        self,
        incident_id: str,
        state: str,
        actor_key: str | None,
        source: tuple[str, str | None],
        name: str = "",
    ) -> bool:
        """A paging tool says the incident was acknowledged or resolved there: stop
        escalating as :meth:`acknowledge` / :meth:`resolve` do, but tell the tool
        nothing (``source`` is its provider kind and target, None for every target of
        that kind). False when it changes nothing: already acknowledged or resolved, so
        an acknowledgement arriving after a resolve is ignored. ``name`` is the person's
        name as the tool gave it: it is stored with the acknowledgement, because the chat
        pages it updates can be sent before the incident desk has heard of the person."""
        kind, target = source

        def not_the_source(sent: list) -> list:
            return [
                p for p in self.outbox.followups(FOLLOWUP[state])(sent)
                if not (p.provider == kind and target in (None, p.target_id))
            ]  # fmt: skip

        async with self.engine.lock(incident_id):
            changed = await self.store.stop(
                incident_id, state, self.services.clock.now(), actor_key, not_the_source, name
            )
        if changed:
            if state == "resolved":
                self.engine.forget(incident_id)
            self.engine.wake()
        return changed

    async def resolve(self, incident_id: str) -> None:
        """Stop escalating and tell PagerDuty the incident is resolved. Safe to repeat."""
        async with self.engine.lock(incident_id):
            changed = await self.store.stop(
                incident_id,
                "resolved",
                self.services.clock.now(),
                None,
                self.outbox.followups("resolve"),
            )
        if changed:
            self.engine.forget(incident_id)
            self.engine.wake()

    async def pages(self, incident_id: str) -> list[PageRecord]:
        """Every page sent for the incident, placed in its team's chain."""
        inc = await self.store.incident(incident_id)
        return chains.page_records(inc, await self.store.pages.all(incident_id))

    async def team(self, incident_id: str) -> str | None:
        """The team being paged now (after any re-routing); None if paging never started."""
        inc = await self.store.incident(incident_id)
        return inc.team if inc else None

    async def members(self, incident_id: str) -> list[str]:
        """Who may acknowledge (besides admins): the members of the team paged now."""
        inc = await self.store.incident(incident_id)
        return list(inc.chain.get("members", [])) if inc else []

    async def unresolved(self) -> list[str]:
        """Incidents whose paging is not resolved yet (active or acknowledged)."""
        return await self.store.unresolved()

    async def acknowledged_at(self, incident_id: str) -> datetime | None:
        inc = await self.store.incident(incident_id)
        return inc.acknowledged_at if inc else None

    async def acknowledged_by(self, incident_id: str) -> str | None:
        inc = await self.store.incident(incident_id)
        return inc.acknowledged_by if inc else None

    async def state(self, incident_id: str) -> str | None:
        """active, acknowledged or resolved; None if paging never started for it."""
        inc = await self.store.incident(incident_id)
        return inc.state if inc else None

    async def flush(self) -> None:
        """Run what is due now and wait for the sends (the worker does this by itself)."""
        await self.engine.flush()

    async def close(self) -> None:
        """Stop in-flight sends and close the HTTP session (the worker does this at exit)."""
        await self.engine.stop()
