"""What the incident feature calls: start paging, acknowledge, resolve, and report.

pager = paging_setup(host)                # also services.feature(Pager)
pager.on_event = add_to_timeline          # async (incident_id, plain text)
await pager.start(IncidentInfo(...))      # snapshot the team's chain, page step 1 now
await pager.update(IncidentInfo(...))     # new facts; a raised severity may page another team
if pager.can_acknowledge(iid, actor.key, services.is_admin(actor)):
    await pager.acknowledge(iid, actor.key)
await pager.resolve(iid)
pager.pages(iid), pager.acknowledged_at(iid)   # for the incident report
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import ConfigError
from incidents.paging.escalation import Engine
from incidents.paging.model import IncidentInfo, PageRecord
from incidents.paging.outbox import Outbox
from incidents.paging.providers import DEFAULT_ACK_HINT, ProviderContext, build_providers
from incidents.paging.routing import (
    DEFAULT_ROUTING,
    RoutingConfig,
    RoutingError,
    Team,
    load_routing,
    member_matches,
)
from incidents.paging.secret_scrub import forget_secret_values
from incidents.paging.store import DOMAIN, MIGRATIONS, PagingStore
from incidents.paging.targets import SETTING_REF

if TYPE_CHECKING:
    from bot.core import Services
    from bot.core.features import FeatureHost

log = logging.getLogger(__name__)

OnEvent = Callable[[str, str], Awaitable[None]]

__all__ = [
    "IncidentInfo",
    "PageRecord",
    "Pager",
    "RoutingConfig",
    "Team",
    "load_routing",
    "paging_setup",
]


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
        # How a person acknowledges, shown in SMS, email and webhook text; "{id}" is
        # replaced by the incident id. The incident feature may set its own command.
        self.ack_hint = DEFAULT_ACK_HINT
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
            rng=random.Random(),
        )
        self.engine = Engine(self.store, self.outbox, services.clock, self._emit, self.ctx)

    async def _emit(self, incident_id: str, text: str) -> None:
        if self.on_event is None:
            return
        try:
            await self.on_event(incident_id, text)
        except Exception:  # the timeline failing must never stop paging
            log.exception("paging: on_event failed for incident %s", incident_id)

    def team_for(self, info: IncidentInfo) -> Team:
        return self.routing.team_for(info)

    def _chain(self, team: Team) -> dict:
        """The team's chain with every target it can reach (fallbacks too), as plain data."""
        wanted: list[str] = []
        for step in team.escalation.steps:
            for first in step.targets:
                tid: str | None = first
                while tid is not None and tid not in wanted:
                    wanted.append(tid)
                    tid = self.routing.targets[tid].fallback
        return {
            "team": team.name,
            "members": list(team.members),
            "repeat": team.escalation.repeat,
            "steps": [s.model_dump() for s in team.escalation.steps],
            "targets": {t: self.routing.targets[t].model_dump() for t in wanted},
        }

    async def start(self, info: IncidentInfo) -> None:
        """Snapshot the team's chain and schedule step 1 now. Starting twice does nothing."""
        team = self.team_for(info)
        chain = self._chain(team)
        now = self.services.clock.now()
        async with self.engine.lock(info.id):
            created = self.store.create_incident(
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
        await self._emit(info.id, f"Paging team {team.name} ({shape}).{drill}")
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
            row = self.store.incident(info.id)
            if row is None or row.state == "resolved":
                return None
            was = int(row.info.get("severity") or 4)
            team = self.team_for(info)
            if info.severity >= was or team.name == row.team:
                self.store.set_info(info.id, info.to_json())
                return None
            old = row.chain
            chain = self._chain(team)
            chain["offset"] = int(old.get("offset", 0)) + len(old["steps"]) + 1
            chain["history"] = [*self._history(old), {"team": team.name, "offset": chain["offset"]}]
            # Teams paged earlier stay among the incident's people (incidents.access).
            chain["members_before"] = [*old.get("members_before", []), *old.get("members", [])]
            # Pages of the old chain still being retried may need their fallbacks.
            chain["targets"] = {**old.get("targets", {}), **chain["targets"]}
            if not self.store.reroute(info.id, info.to_json(), team.name, chain, now):
                return None
        steps = len(chain["steps"])
        shape = f"{steps} step{'s' if steps != 1 else ''}"
        await self._emit(
            info.id,
            f"Severity raised from {was} to {info.severity}: paging team {team.name}"
            f" ({shape}) instead of {row.team}. Only {team.name} or an admin can"
            " acknowledge now.",
        )
        self.engine.wake()
        return team.name

    @staticmethod
    def _history(chain: dict) -> list[dict]:
        """Which team's chain started at which step number, oldest first."""
        return chain.get("history") or [{"team": chain.get("team"), "offset": 0}]

    def can_acknowledge(self, incident_id: str, actor_key: str, is_admin: bool) -> bool:
        """Admins, and members of the team paged for this incident (as it was snapshotted)."""
        if is_admin:
            return True
        inc = self.store.incident(incident_id)
        if inc is None:
            return False
        return member_matches(inc.chain.get("members", []), actor_key)

    def was_paged(self, incident_id: str, actor_key: str) -> bool:
        """Whether the person is a member of a team paged for this incident, now or
        before a re-route: the paged team is among the incident's people."""
        inc = self.store.incident(incident_id)
        if inc is None:
            return False
        members = [*inc.chain.get("members", []), *inc.chain.get("members_before", [])]
        return member_matches(members, actor_key)

    async def acknowledge(self, incident_id: str, actor_key: str) -> bool:
        """Stop escalating and tell PagerDuty (and update chat pages). False if it was
        already acknowledged or resolved, or paging never started for it."""
        async with self.engine.lock(incident_id):
            changed = self.store.stop(
                incident_id,
                "acknowledged",
                self.services.clock.now(),
                actor_key,
                self.outbox.followups("acknowledge"),
            )
        if changed:
            self.engine.wake()
        return changed

    async def resolve(self, incident_id: str) -> None:
        """Stop escalating and tell PagerDuty the incident is resolved. Safe to repeat."""
        async with self.engine.lock(incident_id):
            changed = self.store.stop(
                incident_id,
                "resolved",
                self.services.clock.now(),
                None,
                self.outbox.followups("resolve"),
            )
        if changed:
            self.engine.forget(incident_id)
            self.engine.wake()

    def pages(self, incident_id: str) -> list[PageRecord]:
        inc = self.store.incident(incident_id)
        history = self._history(inc.chain) if inc else []

        def placed(step: int) -> tuple[int, str | None]:
            """A stored step number → (step in its team's chain, that team)."""
            if step <= 0:
                return step, None
            where = [h for h in history if int(h["offset"]) < step]
            if not where:
                return step, None
            return step - int(where[-1]["offset"]), where[-1]["team"]

        records = []
        for r in self.store.pages.all(incident_id):
            step, team = placed(r.step)
            records.append(
                PageRecord(
                    target=r.target_id,
                    provider=r.provider,
                    step=step,
                    round=r.round,
                    action=r.action,
                    status=r.status,
                    attempts=r.attempts,
                    sent_at=r.sent_at,
                    detail=r.detail,
                    fallback_for=r.fallback_for,
                    team=team,
                )
            )
        return records

    def team(self, incident_id: str) -> str | None:
        """The team being paged now (after any re-routing); None if paging never started."""
        inc = self.store.incident(incident_id)
        return inc.team if inc else None

    def members(self, incident_id: str) -> list[str]:
        """Who may acknowledge (besides admins): the members of the team paged now."""
        inc = self.store.incident(incident_id)
        return list(inc.chain.get("members", [])) if inc else []

    def unresolved(self) -> list[str]:
        """Incidents whose paging is not resolved yet (active or acknowledged)."""
        return self.store.unresolved()

    def acknowledged_at(self, incident_id: str) -> datetime | None:
        inc = self.store.incident(incident_id)
        return inc.acknowledged_at if inc else None

    def acknowledged_by(self, incident_id: str) -> str | None:
        inc = self.store.incident(incident_id)
        return inc.acknowledged_by if inc else None

    def state(self, incident_id: str) -> str | None:
        """active, acknowledged or resolved; None if paging never started for it."""
        inc = self.store.incident(incident_id)
        return inc.state if inc else None

    async def flush(self) -> None:
        """Run what is due now and wait for the sends (the worker does this by itself)."""
        await self.engine.flush()

    async def close(self) -> None:
        """Stop in-flight sends and close the HTTP session (the worker does this at exit)."""
        await self.engine.stop()


def routing_path(services: Services) -> Path:
    return Path(services.settings.routing or DEFAULT_ROUTING)


def setting_refs(routing: RoutingConfig) -> list[str]:
    """The variables a target names as ``${SECBOT_DUTY_PHONE}`` (not misspelt settings)."""
    found = []
    for target in routing.targets.values():
        for value in target.model_dump().values():
            m = SETTING_REF.match(value.strip()) if isinstance(value, str) else None
            if m:
                found.append(m.group(1))
    return found


def check_secrets(settings: Any, routing: RoutingConfig, path: Path) -> None:
    """Every secret the routing file names must be set. A missing one stops start-up
    with a line naming the variable, because otherwise the first anyone hears of it is
    a page that fails in the middle of an incident. The shipped example file, and
    development mode, only warn: they are for trying secbot out."""
    wrong = []
    for where, var in routing.secret_names():
        value = (settings.env(var) or "").strip()
        if value and where.endswith(".secret_env") and len(value) < 16:
            wrong.append(f"{where}: {var} must hold at least 16 characters")
        if value and where.endswith(".url_env") and not value.startswith(("https://", "http://")):
            wrong.append(f"{where}: {var} must hold an http(s) URL")
    if wrong:
        raise RoutingError(f"routing file {path}: {'; '.join(wrong)}")
    missing = routing.missing_secrets(settings.environ)
    if not missing:
        return
    lines = [f"{where} names {var}, which is not set" for where, var in missing]
    if settings.routing and not settings.dev_mode:
        raise RoutingError(
            f"routing file {path}: {'; '.join(lines)}. Set each in the environment or .env"
            " (or change the routing file)"
        )
    for line in lines:
        log.warning("routing file %s: %s: pages to that target will fail", path, line)


def paging_setup(host: FeatureHost) -> Pager:
    """Register paging's tables and worker; the Pager is returned and provided to
    ``services.feature(Pager)``.

    Called by the incident feature's ``setup``; the routing file is checked here, so
    a mistake in it stops start-up with a message naming the file and the field.
    """
    services = host.services
    path = routing_path(services)
    routing = load_routing(path)
    check_secrets(services.settings, routing, path)
    services.settings.claim(*setting_refs(routing))
    notify_keys = {"SECBOT_NOTIFY_API_KEY"} | {
        var for where, var in routing.secret_names() if where.endswith(".api_key_env")
    }
    for name in sorted(notify_keys):
        key = services.settings.env(name)
        if key and len(key.strip()) < 74:
            raise ConfigError(
                f"{name} does not look like a GOV.UK Notify API key"
                " (key name, service id and secret key joined by dashes)"
            )
    host.add_migrations(DOMAIN, MIGRATIONS)
    pager = Pager(services, routing)
    services.provide(pager)
    host.add_background(paging_worker)
    return pager


async def paging_worker(services: Services) -> AsyncIterator[None]:
    """``host.add_background`` worker: escalation jobs and the outbox, on services.clock."""
    pager = services.feature(Pager)
    forget_secret_values(
        services.db, {n: t.model_dump() for n, t in pager.routing.targets.items()}
    )
    worker = pager.engine.worker
    worker.start()  # recovers pages a stopped process was sending, then loops
    try:
        yield
    finally:
        # In ``finally`` so it also runs when the generator is closed rather than resumed.
        await worker.stop()  # then drains: in-flight sends cancelled, HTTP session closed
