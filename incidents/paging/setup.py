"""Plugging paging into the app: check the routing file and its secrets at start-up,
register the tables, make the :class:`~incidents.paging.api.Pager` and run its worker.

A mistake in the routing file, or a secret it names that is not set, stops start-up
with a message naming the file and the field, not a page that fails mid-incident.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import ConfigError
from incidents.paging.api import Pager
from incidents.paging.metrics import add_paging_metrics
from incidents.paging.routing import DEFAULT_ROUTING, RoutingConfig, RoutingError, load_routing
from incidents.paging.secret_scrub import forget_secret_values
from incidents.paging.targets import SETTING_REF
from incidents.paging.webhooks import CALLBACK_PATH, PAGERDUTY_PATH, WebhookReceiver

if TYPE_CHECKING:
    from bot.core import Services
    from bot.core.features import FeatureHost

log = logging.getLogger(__name__)


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
    pager = Pager(services, routing)
    services.provide(pager)
    # Hearing back: PagerDuty's webhooks and the generic callback (paging/webhooks/).
    receiver = WebhookReceiver(pager)
    services.provide(receiver)
    host.add_webhook(PAGERDUTY_PATH, receiver.pagerduty)
    host.add_webhook(CALLBACK_PATH, receiver.callback)
    add_paging_metrics(services)
    host.add_background(paging_worker)
    return pager


async def paging_worker(services: Services) -> AsyncIterator[None]:
    """``host.add_background`` worker: escalation jobs and the outbox, on services.clock."""
    pager = services.feature(Pager)
    await forget_secret_values(
        services.db, {n: t.model_dump() for n, t in pager.routing.targets.items()}
    )
    worker = pager.engine.worker
    worker.start()
    try:
        yield
    finally:
        # In ``finally`` so it also runs when the generator is closed rather than resumed.
        await worker.stop()  # then drains: in-flight sends cancelled, HTTP session closed
