"""The /compromised flow through the core with no platform (TestBackend) and a tiny
stand-in pager, so the feature's own logic is checked apart from real paging. The
end-to-end tests (test_incident_slack/teams/web/paging/restart.py) use the
real pager over HTTP."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bot.core.model import Actor, Place
from incidents.desk import IncidentDesk
from incidents.paging.model import Notice
from tests.support import TestBackend, backend_bot, close_backend_bot


@dataclass(frozen=True)
class Info:
    id: str
    summary: str
    platform: str
    account: str
    department: str | None
    severity: int
    drill: bool
    reporter: str
    origin: dict | None = None
    platform_name: str = ""
    owning_team: str = ""


class StandInPager:
    def __init__(self) -> None:
        self.team_now = SimpleNamespace(name="comms-security", members=["test:U2"])
        self.states: dict[str, str] = {}
        self.updated: list[Info] = []
        self.started: list[Info] = []
        self.acked: list[tuple[str, str]] = []
        self.resolved: list[str] = []
        self.on_notice = None

    def team_for(self, info: Info):
        return self.team_now

    async def start(self, info: Info) -> None:
        self.started.append(info)
        self.states[info.id] = "active"
        said = "Paged comms-security by chat"
        await self.on_notice(info.id, Notice(said, said))

    async def update(self, info: Info) -> str | None:
        self.updated.append(info)
        return None

    async def state(self, incident_id: str) -> str | None:
        return self.states.get(incident_id)

    async def team(self, incident_id: str) -> str | None:
        return self.team_now.name if incident_id in self.states else None

    async def members(self, incident_id: str) -> list[str]:
        return list(self.team_now.members)

    async def unresolved(self) -> list[str]:
        return [i for i, state in self.states.items() if state != "resolved"]

    async def can_acknowledge(self, incident_id: str, actor_key: str, is_admin: bool) -> bool:
        return is_admin or actor_key in self.team_now.members

    async def was_paged(self, incident_id: str, actor_key: str) -> bool:
        return incident_id in self.states and actor_key in self.team_now.members

    async def acknowledge(self, incident_id: str, actor_key: str, name: str = "") -> bool:
        self.acked.append((incident_id, actor_key))
        self.states[incident_id] = "acknowledged"
        return True

    async def resolve(self, incident_id: str) -> None:
        self.resolved.append(incident_id)
        self.states[incident_id] = "resolved"

    async def pages(self, incident_id: str) -> list:
        return []

    async def acknowledged_at(self, incident_id: str):
        return None


@pytest.fixture
def pager(monkeypatch) -> StandInPager:
    stand_in = StandInPager()
    module = types.ModuleType("incidents.paging")
    module.IncidentInfo = Info  # type: ignore[attr-defined]

    def paging_setup(host) -> StandInPager:
        return stand_in

    module.paging_setup = paging_setup  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "incidents.paging", module)
    return stand_in


@pytest.fixture
async def bot(pager, tmp_path):
    env = {"SECBOT_DB": str(tmp_path / "db.sqlite"), "SECBOT_ADMINS": "ADMIN"}
    bot = await backend_bot(env, features=["incidents.feature"], content=False)
    yield bot
    await close_backend_bot(bot)


def values(msg) -> list[str]:
    return [b.value for b in msg.buttons()]


async def triage(backend: TestBackend, start: str = "compromised x @govuk") -> str:
    replies = await backend.exec_command(start)
    card = replies[0]
    incident_id = card.buttons()[0].value.split("|")[0]
    await backend.click("incident:triage", f"{incident_id}|symptoms|rogue-posts:on")
    await backend.click("incident:triage", f"{incident_id}|symptoms|next")
    await backend.click("incident:triage", f"{incident_id}|access|yes")
    await backend.click("incident:triage", f"{incident_id}|harmful|no")
    await backend.click("incident:triage", f"{incident_id}|personal|no")
    return incident_id


async def test_permissions_and_checklist_with_a_stand_in_pager(bot, pager):
    reporter = TestBackend(bot, user="U1")
    stranger = TestBackend(bot, user="U9")
    teammate = TestBackend(bot, user="U2")
    incident_id = await triage(reporter)
    assert incident_id == f"SEC-{datetime.now(UTC).year}-0001"
    assert len(pager.started) == 1 and pager.started[0].severity == 4
    assert pager.started[0].account == "@govuk" and pager.started[0].drill is False

    # A stranger is told the same as for an id that does not exist; the reporter is on
    # the incident, so is told why they can't acknowledge it.
    refused = await stranger.click("incident:ack", incident_id)
    made_up = await stranger.click("incident:ack", "SEC-2026-9999")
    assert refused.replies[0].text == made_up.replies[0].text.replace("9999", incident_id[-4:])
    assert "can't find incident" in refused.replies[0].text
    refused = await reporter.click("incident:ack", incident_id)
    assert "only someone in the paged team (comms-security)" in refused.replies[0].text
    assert pager.acked == []
    ok = await teammate.click("incident:ack", incident_id)
    assert pager.acked == [(incident_id, "test:U2")]
    assert "acknowledged" in ok.replies[-1].text

    replies = await teammate.exec_command(f"compromised close {incident_id} done")
    assert "Only the incident commander" in replies[0].text and pager.resolved == []
    replies = await teammate.exec_command(f"compromised severity {incident_id} 1")
    assert "Only the incident commander" in replies[0].text
    replies = await stranger.exec_command(f"compromised close {incident_id} done")
    assert "can't find incident" in replies[0].text and pager.resolved == []
    replies = await reporter.exec_command(f"compromised severity {incident_id} 1")
    assert "severity raised from 4 (low) to 1 (critical)" in replies[0].text

    desk = bot.services.feature(IncidentDesk)
    step_ids = [s.step_id for s in await desk.store.steps.all(incident_id)]
    assert "notify-siro" in step_ids  # added when the severity went up to 1

    skipped = await teammate.click("incident:skip", f"{incident_id}|contain-scheduled")
    reasons = [c.value for b in skipped.replies[0].blocks for c in getattr(b, "choices", ())]
    assert f"{incident_id}|contain-scheduled|not-relevant" in reasons
    await teammate.click("incident:reason", f"{incident_id}|contain-scheduled|not-relevant")
    step = await desk.store.steps.get(incident_id, "contain-scheduled")
    assert (step.status, step.reason) == ("skipped", "Not relevant to this incident")

    # Steps are still open, so closing asks first (issue 15), listing them by text.
    replies = await reporter.exec_command(f"compromised close {incident_id} Recovered")
    assert "Close it anyway?" in replies[-1].text and pager.resolved == []
    assert (await desk.store.steps.all(incident_id))[0].text in replies[-1].text
    confirm = [b.value for b in replies[-1].buttons() if b.value.endswith("|confirm")]
    await reporter.click("incident:close", confirm[0])
    assert pager.resolved == [incident_id]
    assert (await desk.store.get(incident_id)).status == "closed"
    timeline = [e.text for e in await desk.store.timeline.events(incident_id)]
    assert "Paged comms-security by chat" in timeline  # the pager's on_notice
    assert any(t.startswith("Acknowledged by") for t in timeline)


async def test_handle_can_be_given_later_and_ids_count_up(bot, pager):
    backend = TestBackend(bot, user="U1")
    first = (await backend.exec_command("compromised"))[0]
    hints = [line for b in first.blocks for line in getattr(b, "lines", ())]
    assert "Which account is it? Type its name after the command, for example: " in hints[0]
    assert hints[0].endswith(" compromised handle @ouraccount")  # no "/" outside Slack
    replies = await backend.exec_command("compromised handle @dept_news")
    assert "account set to @dept_news" in replies[0].text
    desk = bot.services.feature(IncidentDesk)
    (inc,) = await desk.store.open_incidents()
    assert inc.account == "@dept_news" and inc.triage_step == "platform"
    second = await backend.exec_command("compromised drill facebook @other")
    assert "DRILL" in second[0].text and "0002" in second[0].text
    replies = await backend.exec_command("compromised status")
    assert "SEC-" in replies[0].text and "DRILL" in replies[0].text
    replies = await backend.exec_command("compromised frobnicate")
    assert "didn't understand" in replies[0].text


def test_parse_person():
    from incidents.people import parse_person

    assert parse_person("<@U123|sam>", "slack") == ("slack:U123", "sam")
    # An escaped mention without a name, or a typed id, carries no name: it is looked
    # up (incidents.names), never shown as the id (issue 15, item 5).
    assert parse_person("<@U123>", "slack") == ("slack:U123", "")
    assert parse_person("@web-user-2", "web") == ("web:web-user-2", "")
    assert parse_person("teams:aad-1", "web") == ("teams:aad-1", "")
    assert parse_person("bad id!", "web") is None
    # A Teams @mention: <@id> in the text, the name only from what Teams sent beside it.
    given = {"29:abc": "Sam Helper"}
    assert parse_person("<@29:abc>", "teams", given) == ("teams:29:abc", "Sam Helper")
    assert parse_person("<@29:abc|Boss>", "teams", given) is None  # a typed name: nobody
    assert parse_person("<@AAD1>", "teams") == ("teams:AAD1", "")  # not a Slack mention
    assert Actor("web", "x").key == "web:x" and Place("web", "l", "c").key == "web:l:c"
