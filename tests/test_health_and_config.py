"""Health endpoint, configuration errors and start-up behaviour."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

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


def _run_app(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    full.update({"SECBOT_DB": str(tmp_path / "x.db"), **env})
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        env=full,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_startup_misconfiguration_is_one_clear_line(tmp_path):
    proc = _run_app({"SLACK_BOT_TOKEN": "xoxb-1"}, tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "secbot can't start: SLACK_SIGNING_SECRET is missing: it is needed with SLACK_BOT_TOKEN"
    ]


def test_port_in_use_is_one_clear_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = _run_app({"PORT": str(port)}, tmp_path)
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
    proc = _run_app({"SECBOT_CONTENT_DIR": str(pack)}, tmp_path)
    assert proc.returncode == 2
    assert "secbot can't start: the training content failed lint" in proc.stderr
    assert "ours.yml:" in proc.stderr and "tip-dept-001" in proc.stderr
    assert "Traceback" not in proc.stderr
