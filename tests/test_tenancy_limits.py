"""Allow-lists of workspaces and tenants, limits on starting incidents, and web chat
history pruning (issue 12, items 2 and 11), through the real app over HTTP."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from app import create_app
from bot.core.clock import FakeClock
from bot.settings import ConfigError, load_settings
from tests import incident_support
from tests.incident_support import buttons, card_text, desk
from tests.support import eventually, start_bot, stop_bot

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack
env = incident_support.env

TENANT_A = "6f1c8a52-3b7e-4d8a-9c1e-0a2b3c4d5e6f"
TENANT_B = "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"
T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
REFUSED = (
    "secbot isn't set up for this workspace or organisation, so it can't help here. "
    "Ask whoever runs secbot to add it."
)


# --- allow-lists ------------------------------------------------------------------------


@pytest.fixture
async def listed(env, fake_slack, fake_connector, content_library):
    allow = {"SECBOT_SLACK_TEAM_IDS": "TAAA, EORG", "SECBOT_TEAMS_TENANT_IDS": TENANT_A.upper()}
    bot = await start_bot(
        {**env, **allow}, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield bot
    await stop_bot(bot)


async def test_slack_workspaces_not_on_the_list_are_refused_and_logged(listed, fake_slack, caplog):
    caplog.set_level(logging.INFO)
    secret = "x @topsecretaccount"
    await listed.slash("/compromised", secret, user="UB", team="TBBB")
    (refusal,) = await fake_slack.wait_for(lambda s: s.responses())
    assert refusal["text"] == REFUSED and refusal["response_type"] == "ephemeral"
    await listed.click("incident:triage", "SEC-2026-0001|platform|x", user="UB", team="TBBB")
    await fake_slack.wait_for(lambda s: len(s.responses()) == 2)
    assert fake_slack.responses()[1]["text"] == REFUSED
    assert await desk(listed).store.open_incidents() == []
    assert fake_slack.api_calls("chat.postMessage") == []
    logged = [r.getMessage() for r in caplog.records if "allow-list" in r.getMessage()]
    assert len(logged) == 2 and all("TBBB" in line and "UB" in line for line in logged)
    assert "topsecret" not in caplog.text

    # The listed workspace, and another workspace of the listed Grid org, are served.
    await listed.slash("/compromised", "x @ours", user="UA", team="TAAA")
    await listed.slash("/compromised", "x @ours", user="UC", team="TCCC", enterprise="EORG")
    posts = await fake_slack.wait_for(lambda s: len(s.api_calls("chat.postMessage")) == 2)
    assert posts and len(await desk(listed).store.open_incidents()) == 2


async def test_teams_tenants_not_on_the_list_are_refused(listed, fake_connector, caplog):
    caplog.set_level(logging.INFO)
    await listed.teams_say("compromised x @secretaccount", personal=True, tenant=TENANT_B)
    (answer,) = await fake_connector.wait_for(lambda s: s.sent())
    assert REFUSED in card_text(answer)
    assert await desk(listed).store.open_incidents() == []
    assert TENANT_B in caplog.text and "secretaccount" not in caplog.text
    await listed.teams_say("compromised x @ours", personal=True, tenant=TENANT_A)
    await fake_connector.wait_for(lambda s: len(s.sent()) == 2)
    assert len(await desk(listed).store.open_incidents()) == 1


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SECBOT_SLACK_TEAM_IDS", "TAAA,not-a-team"),
        ("SECBOT_SLACK_TEAM_IDS", "UAAA"),
        ("SECBOT_TEAMS_TENANT_IDS", "tenant-1"),
        ("SECBOT_TEAMS_TENANT_IDS", f"{TENANT_A};{TENANT_B}"),
    ],
)
def test_bad_allow_lists_stop_start_up(setting, value):
    with pytest.raises(ConfigError) as caught:
        load_settings({setting: value}, env_file=None)
    assert setting in str(caught.value) and "separated by commas" in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SECBOT_INCIDENT_MAX_OPEN_TRIAGE", "0"),
        ("SECBOT_INCIDENT_MAX_PER_USER_HOUR", "lots"),
        ("SECBOT_INCIDENT_MAX_PER_WORKSPACE_HOUR", "-1"),
        ("SECBOT_WEBCHAT_RETENTION_DAYS", "0"),
        ("SECBOT_WEBCHAT_RETENTION_DAYS", "nan"),
    ],
)
def test_bad_limits_stop_start_up(tmp_path, setting, value):
    env = {"SECBOT_DB": str(tmp_path / "db.sqlite"), setting: value}
    with pytest.raises(ConfigError) as caught:
        create_app(load_settings(env, env_file=None), content=False)
    assert setting in str(caught.value)


# --- limits on starting incidents ---------------------------------------------------------


async def web_say(bot, text: str, user: str) -> dict:
    status, body = await bot.web_send(user=user, text=text)
    assert status == 200 and body["ok"]
    return (await bot.web_messages(user=user))[-1]


async def start(bot, user: str, text: str = "compromised x @govuk") -> str | dict:
    """An incident id when one was started, else the refusal."""
    answer = await web_say(bot, text, user)
    ids = buttons(answer["blocks"], "incident:triage")
    return ids[0].split("|")[0] if ids else answer


async def test_open_triage_cap_and_start_rate_limits(env, fake_slack, fake_connector):
    limits = {
        "SECBOT_INCIDENT_MAX_OPEN_TRIAGE": "2",
        "SECBOT_INCIDENT_MAX_PER_USER_HOUR": "3",
        "SECBOT_INCIDENT_MAX_PER_WORKSPACE_HOUR": "4",
    }
    clock = FakeClock(T0)
    bot = await start_bot({**env, **limits}, clock=clock, slack=fake_slack,
                          connector=fake_connector, content=False)  # fmt: skip
    try:
        first = await start(bot, "web-a")
        second = await start(bot, "web-a", "compromised drill x @practice")  # drills count
        refused = await start(bot, "web-a")
        assert isinstance(refused, dict) and refused["private"]
        assert (
            f"You already have 2 incidents still in triage ({first}, {second})" in (refused["text"])
        )
        assert f"compromised close {first} <reason>" in refused["text"]
        assert "An admin can close them too." in refused["text"]
        assert len(await desk(bot).store.open_incidents()) == 2  # nothing was created

        # Closing one (the reporter is its commander) makes room.
        await web_say(bot, f"compromised close {first} reported by mistake", "web-a")
        third = await start(bot, "web-a")
        assert isinstance(third, str)
        # Three started this hour: the per-person limit, even with room in triage.
        await web_say(bot, f"compromised close {second} practice over", "web-a")
        refused = await start(bot, "web-a")
        assert isinstance(refused, dict)
        assert "You have started 3 incidents in the last hour" in refused["text"]

        # The workspace (the web chat) has room for one more from someone else.
        assert isinstance(await start(bot, "web-b"), str)
        refused = await start(bot, "web-c")
        assert isinstance(refused, dict)
        assert "4 incidents have been started here in the last hour" in refused["text"]
        count = len(await desk(bot).store.in_tenants(("web:local",), open_only=False))
        assert count == 4
    finally:
        await stop_bot(bot)

    # The counts come from the database: a restart changes nothing...
    bot = await start_bot({**env, **limits}, clock=clock, slack=fake_slack,
                          connector=fake_connector, content=False)  # fmt: skip
    try:
        refused = await start(bot, "web-c")
        assert isinstance(refused, dict) and "in the last hour" in refused["text"]
        # ...and an hour later there is room again.
        await clock.advance(minutes=61)
        assert isinstance(await start(bot, "web-c"), str)
    finally:
        await stop_bot(bot)


# --- web chat history -------------------------------------------------------------------


async def test_old_web_chat_messages_are_pruned(env, fake_slack, fake_connector):
    clock = FakeClock(T0)
    bot = await start_bot({**env, "SECBOT_WEBCHAT_RETENTION_DAYS": "7"}, clock=clock,
                          slack=fake_slack, connector=fake_connector, content=False)  # fmt: skip
    try:
        await bot.web_send(user="web-a", text="help")
        old = await bot.web_messages(user="web-a")
        assert len(old) == 2  # what was typed, and the answer
        await clock.advance(days=5)
        await bot.web_send(user="web-a", text="help")
        assert len(await bot.web_messages(user="web-a")) == 4
        await clock.advance(days=3)  # the first two are 8 days old now

        async def pruned() -> bool:
            kept = await bot.web_messages(user="web-a")
            return [m["id"] for m in kept] == [m["id"] for m in kept if m["id"] > old[-1]["id"]]

        await eventually(pruned)
        kept = await bot.web_messages(user="web-a")
        assert len(kept) == 2 and all(m["id"] > old[-1]["id"] for m in kept)
    finally:
        await stop_bot(bot)
