"""The accounts register drives the rest (issue 19 item 2), end to end: ``/compromised``
offers the caller's team's registered accounts first and pre-fills platform, owner and
recovery contacts from the one picked; routing matches on the account's owning team;
a drill picks a registered account. Web chat throughout, and the offer in Slack and
Teams."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.core.model import Actor
from bot.server import SERVICES
from incidents.paging import IncidentInfo
from incidents.paging.routing import Rule
from incidents.register.model import Access, Details, Person
from incidents.register.store import RegisterStore
from tests import incident_support
from tests.incident_support import ROUTING, buttons, card_text, desk, routing_env
from tests.support import eventually, start_bot, stop_bot

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
ADMIN = Actor("web", "web-admin", "Ada Admin")
PRESS_TEAM = (
    ROUTING.replace(
        "teams:\n",
        "teams:\n  press-team:\n    members: [web:web-user-1]\n    escalation:\n      steps:\n"
        "        - targets: [room]\n",
    )
    + "rules:\n  - team: press-team\n    owning_team: Press Office\n"
)
ANSWERS = ("symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|no", "personal|no")


def account(platform: str, handle: str, team: str, owner: str, **more) -> Details:
    return Details(
        platform=platform,
        handle=handle,
        team=team,
        owner=Person(owner.title(), owner),
        two_factor="sms",
        recovery_email=f"{team.split()[0].lower()}@dept.gov.uk",
        recovery_phone="+44 20 7946 0000",
        recovery_holder=f"{team} shared mailbox",
        recovery_shared=True,
        **more,
    )


async def seed(bot, tenant: str, ids: tuple[str, str]) -> dict[str, int]:
    """Three accounts: the first person owns X, the second can get into Instagram."""
    store = RegisterStore(bot.app[SERVICES].db)
    made = {}
    for key, details in {
        "x": account("x", "@DeptPress", "Press office", ids[0]),
        "bluesky": account("bluesky", "@dept.bsky.social", "Press office", "someone"),
        "instagram": account("instagram", "@deptcampaigns", "Campaigns", "someone-else",
                             access=(Access(Person("Second", ids[1]), "editor"),)),
    }.items():  # fmt: skip
        made[key] = (await store.add(tenant, details, by=ADMIN, now=NOW)).id
    return made


@pytest.fixture
async def bot(slack_env, fake_pd, fake_slack, fake_connector, content_library, tmp_path):
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url, PRESS_TEAM)}
    running = await start_bot(env, slack=fake_slack, connector=fake_connector,
                              content=content_library)  # fmt: skip
    yield running
    await stop_bot(running)


async def web(bot, user: str, *, text: str | None = None, action: dict | None = None):
    status, body = await bot.web_send(user=user, text=text, action=action)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user)


def test_a_routing_rule_matches_the_owning_team():
    rule = Rule(team="press", owning_team="press office")
    info = IncidentInfo(id="SEC-1", summary="", platform="x", account="@a", department=None,
                        severity=3, drill=False, reporter="web:u")  # fmt: skip
    assert not rule.matches(info)  # not registered: no owning team
    assert rule.matches(replace(info, owning_team="Press Office"))
    assert not rule.matches(replace(info, owning_team="Campaigns"))


async def test_compromised_offers_the_team_accounts_first_and_prefills(bot):
    ids = await seed(bot, "web:local", ("web-user-1", "web-user-2"))
    offer = (await web(bot, "web-user-1", text="compromised"))[-1]
    picks = buttons(offer["blocks"], "incident:pick")
    # Their own account first, then their team's, then the rest; and "Another account".
    assert picks == [str(ids["x"]), str(ids["bluesky"]), str(ids["instagram"]), "another"]
    assert "Which account is it?" in card_text(offer)
    assert await _incidents(bot, "web:local") == []  # nothing started before the pick

    action = {"action_id": "incident:pick", "value": str(ids["x"]),
              "message_id": str(offer["id"])}  # fmt: skip
    messages = await web(bot, "web-user-1", action=action)
    card = next(m for m in reversed(messages) if buttons(m["blocks"], "incident:triage"))
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    inc = await desk(bot).store.get(incident_id)
    assert (inc.platform, inc.account, inc.owning_team) == ("x", "@DeptPress", "Press office")
    events = await desk(bot).store.timeline.events(incident_id)
    (prefill,) = [e.text for e in events if e.kind == "register"]
    assert "business owner Web-User-1" in prefill
    assert "Recovery email press@dept.gov.uk" in prefill and "+44 20 7946 0000" in prefill
    assert "controlled by Press office shared mailbox (shared team mailbox)" in prefill
    assert "2FA: SMS text message (weak)" in prefill
    # A second click on the offer finds the same incident.
    await web(bot, "web-user-1", action=action)
    assert len([e for e in await desk(bot).store.timeline.events(incident_id)
                if e.kind == "register"]) == 1  # fmt: skip

    # Routing matches the owning team: the press team is paged, not the default.
    for answer in ANSWERS:
        act = {"action_id": "incident:triage", "value": f"{incident_id}|{answer}",
               "message_id": str(card["id"])}  # fmt: skip
        await web(bot, "web-user-1", action=act)
    assert (await eventually(lambda: _team(bot, incident_id))) == "press-team"


async def _team(bot, incident_id: str) -> str | None:
    return (await desk(bot).store.get(incident_id)).team


async def test_naming_a_registered_account_prefills_and_another_account_does_not(bot):
    await seed(bot, "web:local", ("web-user-1", "web-user-2"))
    messages = await web(bot, "web-user-3", text="compromised instagram @DEPTCAMPAIGNS")
    card = next(m for m in reversed(messages) if buttons(m["blocks"], "incident:triage"))
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    inc = await desk(bot).store.get(incident_id)
    assert inc.owning_team == "Campaigns" and inc.platform == "instagram"
    offer = (await web(bot, "web-user-4", text="compromised"))[-1]
    action = {"action_id": "incident:pick", "value": "another",
              "message_id": str(offer["id"])}  # fmt: skip
    messages = await web(bot, "web-user-4", action=action)
    card = next(m for m in reversed(messages) if buttons(m["blocks"], "incident:triage"))
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    inc = await desk(bot).store.get(incident_id)
    assert inc.platform is None and inc.owning_team is None


async def test_a_drill_picks_one_of_the_teams_registered_accounts(bot):
    ids = await seed(bot, "web:local", ("web-user-1", "web-user-2"))
    messages = await web(bot, "web-user-2", text="compromised drill")
    card = next(m for m in reversed(messages) if buttons(m["blocks"], "incident:triage"))
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    inc = await desk(bot).store.get(incident_id)
    assert inc.drill and inc.account == "@deptcampaigns" and inc.owning_team == "Campaigns"
    events = await desk(bot).store.timeline.events(incident_id)
    assert any(f"(#{ids['instagram']})" in e.text for e in events if e.kind == "register")


async def test_the_offer_in_slack_and_teams(bot, fake_slack, fake_connector):
    ids = await seed(bot, "slack:T111", ("UOWNER", "UOTHER"))
    await bot.slash("/compromised", "", user="UOWNER", channel="C1")
    (offer,) = await fake_slack.wait_for(
        lambda s: [p for p in s.api_calls("chat.postMessage") + s.responses()
                   if buttons(p.get("blocks", []), "incident:pick")]
    )  # fmt: skip
    assert buttons(offer["blocks"], "incident:pick")[0] == str(ids["x"])
    await bot.click("incident:pick", str(ids["x"]), user="UOWNER", channel="C1",
                    message_ts="1700000999.000001")  # fmt: skip
    (inc,) = await eventually(lambda: _incidents(bot, "slack:T111"))
    assert inc.account == "@DeptPress" and inc.owning_team == "Press office"
    # Pre-filled as in the web chat: the owner, recovery contacts and 2FA on the timeline.
    (prefill,) = await _prefill(bot, inc.id)
    assert "business owner Uowner" in prefill and "Recovery email press@dept.gov.uk" in prefill
    assert "2FA: SMS text message (weak)" in prefill

    ids = await seed(bot, "teams:tenant-1", ("aad-owner", "aad-other"))
    n = len(fake_connector.sent())
    await bot.teams_say("compromised", mention=True, aad="aad-other")
    (offer,) = await fake_connector.wait_for(
        lambda s: [a for a in s.sent()[n:] if buttons(a, "incident:pick")]
    )
    assert buttons(offer, "incident:pick")[0] == str(ids["instagram"])
    await bot.teams_click("incident:pick", str(ids["instagram"]), aad="aad-other")
    (inc,) = await eventually(lambda: _incidents(bot, "teams:tenant-1"))
    assert inc.account == "@deptcampaigns" and inc.platform == "instagram"
    (prefill,) = await _prefill(bot, inc.id)
    assert "business owner Someone-Else" in prefill
    assert "Recovery email campaigns@dept.gov.uk" in prefill and "+44 20 7946 0000" in prefill


async def _prefill(bot, incident_id: str) -> list[str]:
    events = await desk(bot).store.timeline.events(incident_id)
    return [e.text for e in events if e.kind == "register"]


async def _incidents(bot, tenant: str) -> list:
    store = desk(bot).store
    found = []
    for n in range(1, 10):
        inc = await store.get(f"SEC-{datetime.now(UTC).year}-{n:04d}")
        if inc is not None and inc.tenant == tenant:
            found.append(inc)
    return found


async def test_routing_matches_the_owning_team_on_slack_and_teams(bot, fake_slack,
                                                                  fake_connector):  # fmt: skip
    """The owning team of the account picked in Slack or Teams routes the page, as in the
    web chat: the press team, not the default."""
    ids = await seed(bot, "slack:T111", ("UOWNER", "UOTHER"))
    await bot.slash("/compromised", "", user="UOWNER", channel="C1")
    await fake_slack.wait_for(
        lambda s: [p for p in s.api_calls("chat.postMessage") + s.responses()
                   if buttons(p.get("blocks", []), "incident:pick")]
    )  # fmt: skip
    await bot.click("incident:pick", str(ids["x"]), user="UOWNER", channel="C1",
                    message_ts="1700000999.000002")  # fmt: skip
    (inc,) = await eventually(lambda: _incidents(bot, "slack:T111"))
    for answer in ANSWERS:
        await bot.click("incident:triage", f"{inc.id}|{answer}", user="UOWNER", channel="C1",
                        message_ts="1700000999.000003")  # fmt: skip
    assert (await eventually(lambda: _team(bot, inc.id))) == "press-team"

    ids = await seed(bot, "teams:tenant-1", ("aad-owner", "aad-other"))
    await bot.teams_say("compromised", mention=True, aad="aad-owner")
    await fake_connector.wait_for(lambda s: [a for a in s.sent() if buttons(a, "incident:pick")])
    await bot.teams_click("incident:pick", str(ids["x"]), aad="aad-owner")
    (inc,) = await eventually(lambda: _incidents(bot, "teams:tenant-1"))
    for answer in ANSWERS:
        await bot.teams_click("incident:triage", f"{inc.id}|{answer}", aad="aad-owner")
    assert (await eventually(lambda: _team(bot, inc.id))) == "press-team"


async def test_another_account_keeps_the_platform_the_reporter_named(bot):
    # "Hacked on Instagram": the offer lists the registered Instagram accounts; the
    # reporter's is not one of them, so "Another account", and triage need not ask
    # which platform again.
    await seed(bot, "web:local", ("web-user-1", "web-user-2"))
    offer = (await web(bot, "web-user-4", text="compromised we've been hacked on instagram"))[-1]
    (another,) = [v for v in buttons(offer["blocks"], "incident:pick") if v.startswith("another")]
    action = {"action_id": "incident:pick", "value": another, "message_id": str(offer["id"])}
    messages = await web(bot, "web-user-4", action=action)
    card = next(m for m in reversed(messages) if buttons(m["blocks"], "incident:triage"))
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    inc = await desk(bot).store.get(incident_id)
    assert inc.platform == "instagram" and inc.owning_team is None
    assert "Which platform" not in card["text"]
