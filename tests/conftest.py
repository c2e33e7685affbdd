"""Shared fixtures: fake platform servers and the real app running on loopback."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from botframework.connector.auth import MicrosoftAppCredentials

from bot.core.clock import FakeClock
from tests import support
from tests.endpoints import CALLBACK_SECRET, PAGERDUTY_SECRET
from tests.fakes.botframework import FakeBotFramework
from tests.fakes.connector import FakeConnector
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.slack_api import FakeSlack
from tests.fakes.webhook import FakeWebhook
from tests.support import (
    SIGNING_SECRET,
    TEAMS_TEST_ENV,
    admin_sql,
    in_a_thread,
    start_bot,
    stop_bot,
    web_chat_env,
)
from tests.tips_helpers import MONDAY_0800, library, unpaced

OUTBOUND_TEST_TOKEN = "outbound-test-token"


@pytest.fixture(autouse=True)
def no_entra_id(monkeypatch):
    """Replies to Teams need an outbound token from Entra ID, which msal fetches from
    login.microsoftonline.com (https only, so no local fake can stand in). No test may
    reach the internet: every bot gets this token, which the fake connector accepts."""

    def outbound_token(self, force_refresh: bool = False) -> str:
        return OUTBOUND_TEST_TOKEN

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", outbound_token)


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
async def botframework():
    """A fake Bot Framework login service: OpenID metadata and a test signing key."""
    server = await FakeBotFramework().start()
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
        # The paging tools' webhook secrets (tests/endpoints.py signs with them).
        "SECBOT_PAGERDUTY_WEBHOOK_SECRETS": PAGERDUTY_SECRET,
        "SECBOT_PAGING_CALLBACK_SECRETS": CALLBACK_SECRET,
        # The web chat with sign-in: a users file (tests.support.WEB_USERS) and the one
        # host name the tests use.
        **web_chat_env(tmp_path),
    }


@pytest.fixture(scope="session")
def content_library():
    """The shipped content, loaded (and linted) once per test session."""
    from content.library.loader import load_library

    return load_library()


@pytest.fixture
async def running(slack_env, fake_slack, fake_connector, botframework, content_library):
    """The app with Slack on, Teams authenticated (an app id, signing keys from the fake
    ``botframework``; ``running.teams*`` attach a valid token) and the web chat signing
    people in with their secrets; every request must say Host: 127.0.0.1."""
    env = {
        **slack_env,
        **TEAMS_TEST_ENV,
        "SECBOT_BOTFRAMEWORK_OPENID_URL": botframework.metadata_url,
    }
    bot = await start_bot(
        env,
        slack=fake_slack,
        connector=fake_connector,
        content=content_library,
        botframework=botframework,
    )
    yield bot
    await stop_bot(bot)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (it ships with the developers' workspace only)")
    return SHARED


# --- daily tips --------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    """The tips tests' clock: Monday 23 March 2026, 08:00 GMT; moved by hand. A module that
    needs another start defines its own ``clock``."""
    return FakeClock(MONDAY_0800)


@pytest.fixture
async def boot(slack_env, fake_slack, fake_connector, clock):
    """``await boot(**env)``: the app with the small tips library (``tests/tips_helpers``)
    on the ``clock``, unpaced unless ``paced=True``; stopped at the end unless the test
    stopped it."""
    started = []

    async def start(lib=None, paced=False, **env):
        bot = await start_bot(
            {**slack_env, **env},
            clock=clock,
            slack=fake_slack,
            connector=fake_connector,
            content=lib or library(),
        )
        started.append(bot)
        return bot if paced else unpaced(bot)

    yield start
    for bot in started:  # a bot the test stopped itself is already closed
        if not bot.session.closed:
            await stop_bot(bot)


# --- PostgreSQL: a throwaway server per test session (/work/shared/postgres.md) ----------

# Debian's postgresql package puts its programs here, off PATH; the newest version wins.
PG_BINS = sorted(
    glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2] or 0)
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """A PostgreSQL server of its own, on a free loopback port, with trust authentication
    and no durability (fsync off). PostgreSQL refuses to run as root, so as root its
    programs run as the package's ``postgres`` user (runuser), in a folder that user owns
    (/work/shared/postgres.md)."""

    def __init__(self) -> None:
        self.bin = PG_BINS[-1]
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.base = tempfile.mkdtemp(prefix="secbot-pg-")
        if self.run_as:
            shutil.chown(self.base, "postgres")
        self.data, self.port = f"{self.base}/data", _free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        self._pg("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync", "--no-instructions")  # fmt: skip

    def _pg(self, program: str, *args: str) -> None:  # cwd: root's folder may be shut
        subprocess.run(
            [*self.run_as, f"{self.bin}/{program}", *args],
            cwd=self.base, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -h 127.0.0.1 -k {self.base} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._pg("pg_ctl", "-D", self.data, "-l", f"{self.base}/log", "-w", "start", "-o", options)

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    @contextlib.contextmanager
    def running(self):
        """Started, for the block (its URL); stopped and removed after (the test session's
        server, and the bench's: bench/databases.py)."""
        self.start()
        try:
            yield self.url
        finally:
            self.stop()
            self.remove()


def _need_postgres() -> None:
    """Skip where Debian's postgresql is missing; in CI (SECBOT_REQUIRE_POSTGRES=1, or a
    run on PostgreSQL) a missing server is a failure, never a quiet skip."""
    if PG_BINS:
        return
    if os.environ.get("SECBOT_REQUIRE_POSTGRES") or support.TEST_DATABASE == "postgres":
        pytest.fail("PostgreSQL is not installed (apt-get install postgresql), and it is required")
    pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")


@pytest.fixture(scope="session")
def pg_url():
    """The URL of the ``postgres`` database on this test session's own PostgreSQL server,
    started only when a test asks for it; skipped where the package is missing
    (``.ci/run`` installs it)."""
    _need_postgres()
    with PgServer().running() as url:
        yield url


@pytest.fixture
def pg_server():
    """A PostgreSQL server for one test that stops and starts it (the database going away
    and coming back): ``pg_server.url``, ``pg_server.stop()``, ``pg_server.start()``."""
    _need_postgres()
    server = PgServer()
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        server.remove()


@pytest.fixture
def fresh_pg_url(pg_url):
    """A new, empty database on the session's server for one test: its URL. (A plain
    fixture, so sync tests and async ones can both use it.)"""
    name = f"t_{uuid.uuid4().hex[:12]}"
    in_a_thread(admin_sql(pg_url, f'CREATE DATABASE "{name}"'))
    yield pg_url.rsplit("/", 1)[0] + "/" + name
    in_a_thread(admin_sql(pg_url, f'DROP DATABASE "{name}" WITH (FORCE)'))



@pytest.fixture(scope="session", autouse=True)
def test_database_server(request):
    """On PostgreSQL, the session's server before any fixture of a wider scope than a test
    (a module's app, as tests/test_fuzz_endpoints.py starts) names a database."""
    if support.TEST_DATABASE == "postgres":
        support.PG_SERVER = request.getfixturevalue("pg_url")
    yield


@pytest.fixture(autouse=True)
def test_database(request):
    """SECBOT_TEST_DATABASE=postgres runs the suite on PostgreSQL: every app a test starts,
    and every database ``ready_db`` opens, gets a database of its own on the session's
    server, one per SQLite path the test names (so a restarted app finds its data);
    tests marked ``sqlite_only``, and those that read the SQLite file by hand
    (``raw_file``), are skipped."""
    if support.TEST_DATABASE != "postgres":
        yield
        return
    marker = request.node.get_closest_marker("sqlite_only")
    if marker is not None:
        why = marker.args[0] if marker.args else "checks something only SQLite has"
        pytest.skip(f"SQLite only: {why}")
    support.PG_SERVER = request.getfixturevalue("pg_url")
    yield
