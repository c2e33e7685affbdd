"""Helpers for the /compromised end-to-end tests: a routing file, and reading state."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app import SERVICES
from incidents.desk import IncidentDesk
from incidents.paging import Pager
from tests.fakes.connector import FakeConnector
from tests.fakes.mailbox import Mailbox
from tests.fakes.notify import FakeNotify
from tests.fakes.pagerduty import PATIENCE, FakePagerDuty
from tests.fakes.slack_api import FakeSlack
from tests.support import eventually, start_bot, stop_bot
from tests.test_paging_harness import free_port

# One team: step 1 pages PagerDuty and posts a chat page where the incident is worked;
# step 2, five minutes later, pages the backup PagerDuty service. Only the chat page
# is drill-safe.
ROUTING = """\
version: 1
default_team: comms-security
targets:
  duty-pd:
    type: pagerduty
    routing_key_env: DUTY_PD_KEY
  backup-pd:
    type: pagerduty
    routing_key_env: BACKUP_PD_KEY
  room:
    type: chat
    origin: true
    drill_safe: true
teams:
  comms-security:
    members: [slack:UTEAM, teams:aad-team, web:web-team]
    escalation:
      steps:
        - targets: [duty-pd, room]
          wait_minutes: 5
        - targets: [backup-pd]
          wait_minutes: 5
"""


# The same, plus a senior team for severity 1 (by rule), paged by GOV.UK Notify.
ROUTING_WITH_MAJOR = (
    ROUTING.replace(
        "teams:\n",
        """\
  head-sms:
    type: notify_sms
    phone: "07700 900999"
    template_id: tpl-sms
teams:
  major-incident:
    members: [slack:UHEAD, teams:aad-head, web:web-head]
    escalation:
      steps:
        - targets: [head-sms, room]
""",
    )
    + """\
rules:
  - team: major-incident
    min_severity: 1
"""
)


def routing_env(
    tmp_path: Path, pagerduty_url: str, routing: str = ROUTING, **extra: str
) -> dict[str, str]:
    path = tmp_path / "routing.yml"
    path.write_text(routing, encoding="utf-8")
    return {
        "SECBOT_ROUTING": str(path),
        "SECBOT_PAGERDUTY_URL": pagerduty_url,
        # The routing file names these; their values never appear in it or the database.
        "DUTY_PD_KEY": "duty-routing-key-0001",
        "BACKUP_PD_KEY": "backup-routing-key-002",
        **extra,
    }


def desk(bot: Any) -> Any:
    return bot.app[SERVICES].feature(IncidentDesk)


def pager(bot: Any) -> Any:
    return bot.app[SERVICES].feature(Pager)


async def card_of(bot: Any, incident_id: str) -> str:
    """The id of the incident's card once the app has stored it: the platform has the
    post (a fake saw it) a moment before the app hears back and keeps its id."""

    async def stored() -> str | None:
        return (await desk(bot).store.get(incident_id)).card_id

    return await eventually(stored)


async def checklist_of(bot: Any, incident_id: str) -> str:
    """The id of the incident's checklist message, once stored (see card_of)."""

    async def stored() -> str | None:
        return (await desk(bot).store.get(incident_id)).checklist_id

    return await eventually(stored)


def buttons(blocks: list[dict], action_id: str) -> list[str]:
    """Button values for ``action_id`` in web chat JSON, Block Kit or an Adaptive Card."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            # Block Kit and web chat buttons, and a Teams action's data, all have both.
            aid = str(node.get("action_id") or "")
            if aid.split("#", 1)[0] == action_id and "value" in node:
                found.append(node["value"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def card_text(node: Any) -> str:
    """Every string in a rendered message, joined, for "does it say X" checks."""
    if isinstance(node, dict):
        return " ".join(card_text(v) for v in node.values())
    if isinstance(node, list):
        return " ".join(card_text(v) for v in node)
    return node if isinstance(node, str) else ""


async def web_close(bot: Any, incident_id: str, summary: str, user: str) -> list[dict]:
    """``compromised close`` in the web chat, pressing "Close anyway" when it asks first
    because steps are still open. Returns the person's messages afterwards."""
    status, body = await bot.web_send(user=user, text=f"compromised close {incident_id} {summary}")
    assert status == 200 and body["ok"]
    messages = await bot.web_messages(user=user)
    confirm = [v for v in buttons(messages[-1]["blocks"], "incident:close") if "|confirm" in v]
    if confirm:
        action = {"action_id": "incident:close", "value": confirm[0],
                  "message_id": str(messages[-1]["id"])}  # fmt: skip
        status, body = await bot.web_send(user=user, action=action)
        assert status == 200 and body["ok"]
        messages = await bot.web_messages(user=user)
    return messages


async def slack_close(
    bot: Any, fake_slack: Any, incident_id: str, summary: str, user: str, channel: str
) -> None:
    """``/compromised close`` in Slack, pressing "Close anyway" in the ephemeral
    confirmation when steps are still open."""
    n = len(fake_slack.responses())
    await bot.slash("/compromised", f"close {incident_id} {summary}", user=user, channel=channel)
    (answer,) = (await fake_slack.wait_for(lambda s: s.responses()[n:]))[:1]
    confirm = [v for v in buttons(answer.get("blocks", []), "incident:close") if "|confirm" in v]
    if confirm:
        await bot.click("incident:close", confirm[0], user=user, channel=channel,
                        message_ts="1700000099.000001", is_ephemeral=True)  # fmt: skip


async def teams_close(
    bot: Any, fake_connector: Any, incident_id: str, summary: str, aad: str
) -> None:
    """``compromised close`` in a Teams channel, pressing "Close anyway" in the
    confirmation (sent to the person's own chat) when steps are still open."""
    n = len(fake_connector.sent())
    await bot.teams_say(f"compromised close {incident_id} {summary}", mention=True, aad=aad)
    confirm = [v for v in buttons(fake_connector.sent()[n:], "incident:close") if "|confirm" in v]
    if confirm:
        await bot.teams_click("incident:close", confirm[0], aad=aad)


# --- fakes that wait long enough on a busy CI machine ----------------------------------


class Patient:
    """``wait_for`` with a generous default: the waits are event-driven, so a long
    timeout costs nothing unless the test is failing anyway."""

    async def wait_for(self, predicate, timeout: float = PATIENCE):
        return await super().wait_for(predicate, timeout)  # type: ignore[misc]


class PatientSlack(Patient, FakeSlack):
    pass


class PatientConnector(Patient, FakeConnector):
    pass


@pytest.fixture
async def fake_slack():
    server = await PatientSlack().start()
    yield server
    await server.close()


@pytest.fixture
async def fake_connector():
    server = await PatientConnector().start()
    yield server
    await server.close()


@pytest.fixture
async def fake_pd():
    server = await FakePagerDuty().start()
    yield server
    await server.close()


@pytest.fixture
async def smtp():
    """A mail server on loopback: (its aiosmtpd controller, the :class:`Mailbox`)."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    await asyncio.to_thread(controller.start)
    yield controller, mailbox
    await asyncio.to_thread(controller.stop)


@pytest.fixture
async def notify():
    server = await FakeNotify().start()
    yield server
    await server.close()


@pytest.fixture
def env(slack_env, fake_pd, tmp_path) -> dict[str, str]:
    """Slack settings plus :data:`ROUTING`, paging the fake PagerDuty."""
    return {**slack_env, **routing_env(tmp_path, fake_pd.url)}


@pytest.fixture
async def bot(env, fake_slack, fake_connector, content_library):
    """The real app; ``fake_slack`` is whichever the test module provides."""
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)
