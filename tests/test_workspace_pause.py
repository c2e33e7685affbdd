"""Workspace-wide platform errors pause delivery to that workspace (kept across a restart,
admins told once, resumed by an admin); channel errors mark only their channel."""

from __future__ import annotations

import pytest

from bot.audit import AuditLog
from bot.server import SERVICES
from tests.support import start_bot, stop_bot
from tests.tips_helpers import checked, library, tip_posts, tips_of, unpaced

CHANNELS = ["C0P1", "C0P2", "C0P3", "C0P4"]
TEAMS_CHANNELS = ["19:one@thread.tacv2", "19:two@thread.tacv2"]


@pytest.fixture
def env(slack_env):
    # One post at a time, so "tried once, then not again" is exact.
    return {**slack_env, "SECBOT_TIP_CONCURRENCY": "1"}


@pytest.fixture
def boot(env, fake_slack, fake_connector, clock):
    async def go():
        bot = await start_bot(
            env, clock=clock, slack=fake_slack, connector=fake_connector, content=library()
        )
        return unpaced(bot)

    return go


async def healthz(bot) -> dict:
    async with bot.session.get(bot.url + "healthz") as r:
        return await r.json()


def chat_posts(fake_slack) -> list[dict]:
    return [p for p in fake_slack.api_calls("chat.postMessage") if p["channel"] in CHANNELS]


async def subscribe_all(bot, fake_slack) -> None:
    for channel in CHANNELS:
        await bot.slash("/tip", "subscribe 09:30 daily", channel=channel)
    await fake_slack.wait_for(lambda s: len(chat_posts(s)) == len(CHANNELS))  # confirmations


@pytest.mark.parametrize("error", ["invalid_auth", "missing_scope", "token_revoked"])
async def test_a_workspace_wide_slack_error_pauses_the_workspace_not_each_channel(
    boot, fake_slack, clock, error
):
    bot = await boot()
    try:
        await subscribe_all(bot, fake_slack)
        fake_slack.calls.clear()
        fake_slack.method_errors["chat.postMessage"] = error
        await clock.advance(hours=1, minutes=31)
        await checked(bot)
        # Tried once; the other channels of the workspace were not tried at all.
        assert len(chat_posts(fake_slack)) == 1
        store = tips_of(bot).store
        assert all(
            [(await store.subscriptions.get(i)).active for i in range(1, len(CHANNELS) + 1)]
        )  # not "gone"
        assert {d.status for d in await store.ledger.deliveries()} == {"failed"}
        paused = (await healthz(bot))["paused_workspaces"]
        assert [(p["platform"], p["workspace"], p["reason"]) for p in paused] == [
            ("slack", "T111", error)
        ]
    finally:
        await stop_bot(bot)


async def test_a_pause_survives_a_restart_until_an_admin_resumes(boot, fake_slack, clock):
    bot = await boot()
    try:
        await subscribe_all(bot, fake_slack)
        fake_slack.method_errors["chat.postMessage"] = "invalid_auth"
        await clock.advance(hours=1, minutes=31)
        await checked(bot)
    finally:
        await stop_bot(bot)
    fake_slack.method_errors.clear()  # fixed, but nobody has said so yet
    fake_slack.calls.clear()
    bot = await boot()
    try:
        assert (await healthz(bot))["paused_workspaces"][0]["workspace"] == "T111"
        await clock.advance(days=1)
        await checked(bot)
        assert tip_posts(fake_slack) == []  # still paused after the restart

        await bot.slash("/secbot", "resume", user="U0NOBODY", channel=CHANNELS[0])
        (refusal,) = await fake_slack.wait_for(lambda s: s.responses())
        assert "Only secbot admins" in refusal["text"]
        await bot.slash("/secbot", "resume", user="UADMIN", channel=CHANNELS[0])
        said = (await fake_slack.wait_for(lambda s: s.responses()[1:]))[-1]
        assert "Slack workspace T111 is on again" in said["text"]
        assert (await healthz(bot))["paused_workspaces"] == []
        (entry,) = await AuditLog(bot.app[SERVICES].db).page(10)
        assert (entry.door, entry.actor, entry.action, entry.target) == (
            "slack", "slack:UADMIN", "resumed delivery to a workspace", "the Slack workspace T111"
        )  # fmt: skip
        await clock.advance(days=1)
        await checked(bot)
        assert sorted(p["channel"] for p in tip_posts(fake_slack)) == CHANNELS
    finally:
        await stop_bot(bot)


async def test_a_channel_error_marks_only_that_channel(boot, fake_slack, clock):
    bot = await boot()
    try:
        await subscribe_all(bot, fake_slack)
        fake_slack.channel_errors[CHANNELS[0]] = "channel_not_found"
        await clock.advance(hours=1, minutes=31)
        await checked(bot)
        store = tips_of(bot).store
        assert (
            not (await store.subscriptions.get(1)).active
            and (await store.subscriptions.get(1)).inactive_reason == "gone: channel_not_found"
        )
        assert all(
            [(await store.subscriptions.get(i)).active for i in range(2, len(CHANNELS) + 1)]
        )
        # Every channel was tried (the first one refused), the others got their tip.
        assert sorted(p["channel"] for p in tip_posts(fake_slack)) == CHANNELS
        assert {d.status for d in await store.ledger.deliveries()} == {"gone", "sent"}
        assert (await healthz(bot))["paused_workspaces"] == []
    finally:
        await stop_bot(bot)


async def test_teams_credentials_refused_pause_the_tenant_and_admins_are_told_once(
    boot, fake_slack, fake_connector, clock
):
    bot = await boot()
    try:
        for conversation in TEAMS_CHANNELS:
            await bot.teams_say(
                "tip subscribe 09:30 daily", mention=True, conversation=conversation
            )
        await fake_connector.wait_for(lambda s: len(s.sent()) == len(TEAMS_CHANNELS))
        fake_connector.calls.clear()
        for conversation in TEAMS_CHANNELS:
            fake_connector.fail_status[conversation] = 401
        await clock.advance(hours=1, minutes=31)
        await checked(bot)
        tries = [c for c in fake_connector.calls if c.method == "POST"]
        assert len(tries) == 1  # the second conversation was not tried
        store = tips_of(bot).store
        assert all(
            s.active for s in await store.subscriptions.all()
        )  # a 401 is not "the bot was removed"
        # The Slack admin is told in a direct message, once.
        (told,) = await fake_slack.wait_for(
            lambda s: [p for p in s.api_calls("chat.postMessage") if p["channel"] == "UADMIN"]
        )
        assert "Teams tenant tenant-1" in told["text"] and "teams 401" in told["text"]
        await clock.advance(days=1)
        await checked(bot)
        assert len([c for c in fake_connector.calls if c.method == "POST"]) == 1
        dms = [p for p in fake_slack.api_calls("chat.postMessage") if p["channel"] == "UADMIN"]
        assert len(dms) == 1
    finally:
        await stop_bot(bot)
