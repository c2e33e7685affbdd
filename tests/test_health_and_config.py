"""Health endpoint, configuration errors and start-up behaviour."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings
from tests.support import run_app

ROOT = Path(__file__).resolve().parents[1]


async def test_healthz_reports_database_and_front_doors(running):
    async with running.session.get(running.url + "healthz") as r:
        assert r.status == 200
        data = await r.json()
    assert data["status"] == "ok" and data["database"] is True
    assert data["version"]
    assert data["front_doors"]["slack_http"] is True
    assert data["front_doors"]["slack_socket_mode"] is False
    assert data["front_doors"]["webchat"] is True
    assert data["front_doors"]["webchat_authenticated"] is True
    assert data["front_doors"]["development_mode"] is False


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": "xoxb-2"},
            "SLACK_APP_TOKEN",
        ),
        (
            {
                "MICROSOFT_APP_ID": "id",
                "MICROSOFT_APP_PASSWORD": "p",
                "MICROSOFT_APP_TYPE": "SingleTenant",
            },
            "MICROSOFT_APP_TENANT_ID",
        ),
        ({"MICROSOFT_APP_ID": "id"}, "MICROSOFT_APP_PASSWORD"),
        ({"MICROSOFT_APP_TYPE": "Sideways"}, "MICROSOFT_APP_TYPE"),
        ({"PORT": "eighty"}, "PORT"),
        ({"SECBOT_TIMEZONE": "Mars/Olympus"}, "SECBOT_TIMEZONE"),
        ({"SECBOT_ADMINS": "*"}, "SECBOT_ADMINS"),
        ({"SECBOT_ADMINS": "U1 U2"}, "SECBOT_ADMINS"),
        ({"SECBOT_ADMINS": "U1;U2"}, "SECBOT_ADMINS"),
        ({"SECBOT_WEBCHAT": "sometimes"}, "SECBOT_WEBCHAT"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({"MICROSOFT_APP_PASSWORD": "p"}, "MICROSOFT_APP_ID"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"),
        ({"PORT": "70000"}, "PORT"),
    ],
)
def test_misconfiguration_names_the_variable(env, names):
    with pytest.raises(ConfigError) as err:
        load_settings(env, env_file=None)
    assert names in str(err.value)


def test_defaults_and_dotenv(tmp_path):
    (tmp_path / ".env").write_text("PORT=4000\nSECBOT_ADMINS=U1, U2\n")
    s = load_settings({"PORT": "4001"}, env_file=tmp_path / ".env")
    assert s.port == 4001  # the environment wins over .env
    assert s.admins == {"U1", "U2"}
    assert s.host == "127.0.0.1" and s.timezone == "Europe/London"
    assert s.db_path == "./secbot.db" and s.slack_api_url == "https://slack.com/api/"
    assert not s.slack_enabled and not s.teams_authenticated


def test_admin_ids_and_keys(tmp_path):
    from bot.core import Services
    from bot.core.model import Actor

    settings = load_settings({"SECBOT_ADMINS": "U1, teams:aad-2"}, env_file=None)
    services = Services(settings=settings, db=None, clock=None, registry=None)  # type: ignore[arg-type]
    assert services.is_admin(Actor("slack", "U1"))
    assert services.is_admin(Actor("teams", "aad-2"))
    assert not services.is_admin(Actor("web", "aad-2"))  # a key names one platform
    assert not services.is_admin(Actor("slack", "U2"))


def test_unauthenticated_teams_only_in_development_mode():
    """Without an app id, anyone could post activities as any Teams user: the listening
    address grants nothing, only the explicit development mode turns that door on."""
    assert not load_settings({}, env_file=None).teams_enabled
    assert not load_settings({"HOST": "127.0.0.1"}, env_file=None).teams_enabled
    assert load_settings({"SECBOT_MODE": "development"}, env_file=None).teams_enabled
    with_id = {"HOST": "0.0.0.0", "MICROSOFT_APP_ID": "id", "MICROSOFT_APP_PASSWORD": "p"}
    assert load_settings(with_id, env_file=None).teams_enabled


async def test_public_host_without_credentials_serves_neither_open_door(tmp_path):
    from tests.support import start_bot, stop_bot

    # start_bot listens on 127.0.0.1 whatever HOST says; the settings decide the doors.
    bot = await start_bot(
        {"SECBOT_DB": str(tmp_path / "p.db"), "HOST": "0.0.0.0"}, features=[], content=False
    )
    try:
        async with bot.session.post(bot.url + "api/messages", json={"type": "message"}) as r:
            assert r.status in (404, 405)
        async with bot.session.get(bot.url) as r:
            assert r.status == 404
        async with bot.session.get(bot.url + "healthz") as r:
            doors = (await r.json())["front_doors"]
        assert doors["teams"] is False and doors["webchat"] is False
    finally:
        await stop_bot(bot)


async def test_web_chat_off_serves_no_page(tmp_path):
    from tests.support import start_bot, stop_bot

    env = {"SECBOT_DB": str(tmp_path / "w.db"), "SECBOT_WEBCHAT": "off"}
    bot = await start_bot(env, features=[], content=False)
    try:
        for path in ("", "webchat/static/app.js", "webchat/api/messages"):
            async with bot.session.get(bot.url + path) as r:
                assert r.status == 404, path
        async with bot.session.post(bot.url + "webchat/api/send", json={}) as r:
            assert r.status in (404, 405)
        async with bot.session.get(bot.url + "healthz") as r:
            assert (await r.json())["front_doors"]["webchat"] is False
    finally:
        await stop_bot(bot)


def test_startup_misconfiguration_is_one_clear_line(tmp_path):
    proc = run_app({"SLACK_BOT_TOKEN": "xoxb-1"}, tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "secbot can't start: SLACK_SIGNING_SECRET is missing: it is needed with SLACK_BOT_TOKEN"
    ]


def test_port_in_use_is_one_clear_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = run_app({"PORT": str(port)}, tmp_path)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"secbot can't start: PORT {port}")
    assert "Traceback" not in proc.stderr


def test_a_content_pack_that_fails_lint_refuses_start_up(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "ours.yml").write_text(
        "tips:\n"
        "  - id: tip-dept-001\n"
        "    title: {en: Colour}\n"
        "    body: {en: Check the color of the padlock.}\n"
        "    action: {en: Look at it now.}\n"
        "    module: accounts\n"
        "    principle: control-access\n"
        "    topics: [passwords]\n"
        "    source: {title: Ours, url: 'http://insecure.example'}\n"
    )
    proc = run_app({"SECBOT_CONTENT_DIR": str(pack)}, tmp_path)
    assert proc.returncode == 2
    assert "secbot can't start: the training content failed lint" in proc.stderr
    assert "ours.yml:" in proc.stderr and "tip-dept-001" in proc.stderr
    assert "Traceback" not in proc.stderr


def _last_line_only(proc: subprocess.CompletedProcess) -> str:
    """The error is one line, last, with no traceback (INFO logs may come before it)."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr.strip().splitlines()[-1]


def test_an_unusable_database_is_one_clear_line(tmp_path):
    last = _last_line_only(run_app({"SECBOT_DB": str(tmp_path)}, tmp_path))  # a folder
    assert last.startswith(f"secbot can't start: SECBOT_DB '{tmp_path}' can't be opened")


def test_a_bad_host_is_one_clear_line(tmp_path):
    last = _last_line_only(run_app({"HOST": "no-such-host.invalid", "PORT": "0"}, tmp_path))
    assert last.startswith("secbot can't start: HOST 'no-such-host.invalid' is not an address")


def test_a_bad_routing_file_is_one_clear_line(tmp_path):
    routing = tmp_path / "routing.yml"
    routing.write_text("targets:\n  pd: {type: pagerduty}\nteams: {}\n")
    last = _last_line_only(run_app({"SECBOT_ROUTING": str(routing), "PORT": "0"}, tmp_path))
    assert last.startswith(f"secbot can't start: routing file {routing}")
    assert "routing_key" in last


async def test_a_refused_socket_mode_token_is_one_clear_line(tmp_path, fake_slack):
    """Socket Mode connects at start-up, so a bad app-level token is found there."""
    import asyncio

    fake_slack.method_errors["apps.connections.open"] = "invalid_auth"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.update(
        {
            "SECBOT_DB": str(tmp_path / "s.db"),
            "PORT": "0",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_APP_TOKEN": "xapp-1-bad",
            "SLACK_API_URL": fake_slack.url + "api/",
        }
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "app.py"),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    result = subprocess.CompletedProcess([], proc.returncode, "", err.decode())
    last = _last_line_only(result)
    assert last.startswith("secbot can't start: SLACK_APP_TOKEN was refused by Slack")
    assert "(invalid_auth)" in last


def test_sigterm_stops_gracefully(tmp_path):
    """A deploy's SIGTERM runs the same clean shutdown as Ctrl-C, not an abrupt exit."""
    import signal
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.update({"SECBOT_DB": str(tmp_path / "x.db"), "PORT": str(port)})
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, "secbot did not start"
                time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "secbot stopped" in err and "Traceback" not in err
    assert not (tmp_path / "x.db-wal").exists()  # the database was closed cleanly


@pytest.mark.parametrize(
    ("name", "value"), [("SECBOT_TIP_CONCURRENCY", "lots"), ("SECBOT_TIP_CONCURRENCY", "0")]
)
def test_a_bad_tip_setting_stops_start_up_with_one_line(tmp_path, name, value):
    proc = run_app({name: value}, tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"secbot can't start: {name} must be a whole number from 1 to 10000, not {value!r}"
    ]


def test_numeric_settings_are_checked_in_one_place():
    s = load_settings(
        {"SECBOT_PAGING_MAX_ATTEMPTS": " 7 ", "SECBOT_PAGING_RETRY_SECONDS": "2.5"}, env_file=None
    )
    assert s.paging_max_attempts == 7 and s.paging_retry_seconds == 2.5
    assert load_settings({}, env_file=None).paging_max_attempts == 4
    whole = r"SECBOT_PAGING_MAX_ATTEMPTS must be a whole number from 1 to 20, not '2.5'"
    with pytest.raises(ConfigError, match=whole):
        load_settings({"SECBOT_PAGING_MAX_ATTEMPTS": "2.5"}, env_file=None)
    number = r"SECBOT_PAGING_RETRY_SECONDS must be a number from 0.1 to 600, not 'x'"
    with pytest.raises(ConfigError, match=number):
        load_settings({"SECBOT_PAGING_RETRY_SECONDS": "x"}, env_file=None)


def test_start_up_objects_are_frozen_out_of_the_collectors_way():
    """After start-up a full collection walks only what requests create: the content
    library and SDKs (about 100,000 objects, ~50 ms per full collection) are frozen."""
    import gc

    from app import settle_memory

    before = gc.get_freeze_count()
    try:
        settle_memory()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
