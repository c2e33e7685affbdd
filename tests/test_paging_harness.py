"""Helpers for the paging tests: a Pager on real Services with a FakeClock.

``start_paging`` builds what the app builds (settings, SQLite, migrations, the
Pager from ``paging_setup``) and runs the real background worker, so tests move
time with ``clock.advance`` and watch the fakes.
"""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.core import Services
from bot.core.clock import FakeClock
from bot.core.features import FeatureHost
from bot.core.registry import Registry
from bot.settings import load_settings
from bot.storage.db import open_db
from bot.storage.schema import upgrade
from incidents.paging import IncidentInfo, Pager, paging_setup
from tests.support import database_url_for

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HOOK_SECRET = "a-webhook-secret-for-tests"
PD_KEY = "R0UT1NGKEY"
# The routing files below name their secrets by environment variable; these are the values.
SECRETS = {"PD_KEY": PD_KEY, "MAJOR_PD_KEY": "MAJ0RKEY", "HOOK_SECRET": HOOK_SECRET}


def info(iid: str = "INC-1", **kw: Any) -> IncidentInfo:
    fields: dict[str, Any] = {
        "id": iid,
        "summary": "Password changed and posts deleted",
        "platform": "x",
        "account": "@ExampleDept",
        "department": "Department for Examples",
        "severity": 2,
        "drill": False,
        "reporter": "slack:UREPORTER",
    }
    fields.update(kw)
    return IncidentInfo(**fields)


def routing(
    targets: dict[str, dict],
    steps: list[dict],
    *,
    repeat: int = 0,
    members: list[str] | None = None,
    extra_teams: dict[str, dict] | None = None,
    rules: list[dict] | None = None,
) -> dict:
    teams = {
        "duty": {
            "members": members if members is not None else ["slack:UDUTY", "web:duty-officer"],
            "escalation": {"steps": steps, "repeat": repeat},
        }
    }
    teams.update(extra_teams or {})
    return {"default_team": "duty", "targets": targets, "teams": teams, "rules": rules or []}


def pd_target(server, **kw: Any) -> dict:
    key = {} if {"routing_key", "routing_key_env"} & set(kw) else {"routing_key_env": "PD_KEY"}
    return {"type": "pagerduty", **key, "base_url": server.url, **kw}


def hook_target(server, **kw: Any) -> dict:
    secret = {} if {"secret", "secret_env"} & set(kw) else {"secret_env": "HOOK_SECRET"}
    return {"type": "webhook", "url": server.hook_url, **secret, **kw}


def closed_port_url() -> str:
    """A loopback URL nobody listens on: connecting is refused at once."""
    return f"http://127.0.0.1:{free_port()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Paging:
    services: Services
    pager: Pager
    clock: FakeClock
    events: list[tuple[str, str]] = field(default_factory=list)
    worker: Any = None

    def texts(self, incident_id: str = "INC-1") -> list[str]:
        return [t for i, t in self.events if i == incident_id]

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.aclose()
        else:
            await self.pager.close()
        await self.services.db.close()


async def start_paging(
    tmp_path: Path,
    config: dict | str,
    *,
    env: dict[str, str] | None = None,
    clock: FakeClock | None = None,
    worker: bool = True,
    db_name: str = "paging.db",
) -> Paging:
    path = tmp_path / "routing.yml"
    path.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
    settings = load_settings(
        {"SECBOT_ROUTING": str(path), "SECBOT_ADMINS": "UADMIN", **SECRETS, **(env or {})},
        env_file=None,
    )
    # On a PostgreSQL run, the database that stands for this file (tests/support.py).
    db = open_db(database_url_for(tmp_path / db_name) or tmp_path / db_name)
    clock = clock or FakeClock(T0)
    services = Services(settings=settings, db=db, clock=clock, registry=Registry())
    host = FeatureHost(services)
    pager = paging_setup(host)
    await upgrade(db)
    pager.outbox.rng = random.Random(7)
    h = Paging(services, pager, clock)

    async def on_event(incident_id: str, text: str) -> None:
        h.events.append((incident_id, text))

    pager.on_event = on_event
    if worker:
        (task,) = host.background
        h.worker = task(services)
        await anext(h.worker)
    return h


async def test_harness_builds_a_pager_with_its_worker(tmp_path):
    from tests.fakes.pagerduty import FakePagerDuty

    pd = await FakePagerDuty().start()
    h = await start_paging(tmp_path, routing({"pd": pd_target(pd)}, [{"targets": ["pd"]}]))
    try:
        assert h.pager is h.services.feature(Pager)
        assert await h.pager.state("INC-1") is None
    finally:
        await h.stop()
        await pd.close()
