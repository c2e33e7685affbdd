"""Shared fixtures: fake platform servers and the real app running on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.connector import FakeConnector
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.slack_api import FakeSlack
from tests.fakes.webhook import FakeWebhook
from tests.support import SIGNING_SECRET, start_bot, stop_bot, web_chat_env

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
async def fake_slack():
    server = await FakeSlack().start()
    yield server
    await server.close()


@pytest.fixture
async def fake_connector():
    server = await FakeConnector().start()
    yield server
    await server.close()


@pytest.fixture
async def pd():
    """A fake PagerDuty Events API."""
    server = await FakePagerDuty().start()
    yield server
    await server.close()


@pytest.fixture
async def hook():
    """A fake webhook receiver."""
    server = await FakeWebhook().start()
    yield server
    await server.close()


@pytest.fixture
def slack_env(fake_slack, tmp_path) -> dict[str, str]:
    return {
        "SECBOT_DB": str(tmp_path / "secbot.db"),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url + "api/",
        "SECBOT_ADMINS": "UADMIN,aad-admin,web-admin",
        # The web chat with sign-in: a users file (tests.support.WEB_USERS) and the one
        # host name the tests use.
        **web_chat_env(tmp_path),
    }


@pytest.fixture(scope="session")
def content_library():
    """The shipped content, loaded (and linted) once per test session."""
    from content.loader import load_library

    return load_library()


@pytest.fixture
async def running(slack_env, fake_slack, fake_connector, content_library):
    """The app with Slack on, Teams (as Settings.teams_enabled allows) and the web chat
    signing people in with their secrets; every request must say Host: 127.0.0.1."""
    bot = await start_bot(
        slack_env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield bot
    await stop_bot(bot)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (it ships with the developers' workspace only)")
    return SHARED
