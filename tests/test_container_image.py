"""The container image's files (issue 18): the HEALTHCHECK against the real app, and what
the Containerfile, .containerignore and deploy/compose.yaml promise.

deploy/container-ci.sh builds and runs the image itself in CI (podman, as root); these
tests keep the files honest on any machine, without podman.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import yaml

from tests.support import start_bot, stop_bot

ROOT = Path(__file__).resolve().parents[1]
CONTAINERFILE = (ROOT / "Containerfile").read_text(encoding="utf-8")


def _instructions(text: str) -> list[str]:
    """The Containerfile's instructions, continuation lines joined, comments left out."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    return [line.strip() for line in joined.splitlines() if line.strip()]


def _final_stage() -> list[str]:
    lines = _instructions(CONTAINERFILE)
    last_from = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    return lines[last_from:]


def _healthcheck() -> list[str]:
    (line,) = [line for line in _final_stage() if line.startswith("HEALTHCHECK ")]
    return json.loads(line.split(" CMD ", 1)[1])


async def _probe(command: list[str], env: dict[str, str]) -> int:
    argv = [sys.executable, *command[1:]] if command[0] == "python3" else command
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    return await asyncio.wait_for(proc.wait(), 30)


async def test_the_healthcheck_passes_against_the_real_app_with_its_host_name(tmp_path):
    bot = await start_bot(
        {"SECBOT_DB": str(tmp_path / "secbot.db"), "SECBOT_ALLOWED_HOSTS": "secbot.example.gov.uk"}
    )
    try:
        port = bot.url.rsplit(":", 1)[1].strip("/")
        command = _healthcheck()
        assert "/readyz" in " ".join(command)
        ok = {"PORT": port, "SECBOT_ALLOWED_HOSTS": "secbot.example.gov.uk, other.example"}
        assert await _probe(command, ok) == 0
        # The host check refuses 127.0.0.1 when a list is set (421): the probe must send the
        # listed name, and fails when it doesn't.
        assert await _probe(command, {"PORT": port}) != 0
    finally:
        await stop_bot(bot)
    # Nothing listening: unhealthy, not a hang.
    assert await _probe(_healthcheck(), {"PORT": port}) != 0


def test_the_final_stage_runs_as_a_numbered_user_without_build_tools():
    final = _final_stage()
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", users[-1])
    installs = " ".join(line for line in final if "apt-get install" in line)
    for tool in ("binutils", "gcc", "build-essential", "python3-venv", "python3-pip"):
        assert tool not in installs
    assert "pip uninstall -y -q pip setuptools wheel" in CONTAINERFILE
    assert not any(line.startswith("VOLUME") for line in final)  # a named volume, no strays
    assert any(line.startswith("ENV ") and "SECBOT_DB=/data/" in line for line in final)


def test_nothing_private_or_bulky_goes_into_the_build_context():
    ignored = (ROOT / ".containerignore").read_text(encoding="utf-8").split()
    for pattern in (".env", "secbot.db*", ".git", ".venv", "tests", "bench", "deploy"):
        assert pattern in ignored


def test_compose_runs_the_same_healthcheck_and_two_replicas_on_postgresql():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    replicas = [s for name, s in services.items() if name.startswith("secbot-")]
    assert len(replicas) == 2
    for replica in replicas:
        assert replica["healthcheck"]["test"] == ["CMD", *_healthcheck()]
        assert replica["read_only"] is True
        url = replica["environment"]["SECBOT_DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url
    assert services["postgres"]["image"].startswith("docker.io/library/postgres:")
    assert services["proxy"]["image"].startswith("docker.io/library/nginx:")
    conf = (ROOT / "deploy" / "nginx" / "secbot.conf").read_text(encoding="utf-8")
    assert "server secbot-a:3978" in conf and "server secbot-b:3978" in conf
    assert "proxy_set_header Host $host" in conf
