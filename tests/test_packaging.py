"""The Slack manifest and the Teams app package validate against the platforms' schemas."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import yaml

from bot.packaging import teams_manifest, write_teams_package

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "12345678-1234-1234-1234-123456789abc"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_slack_manifest_validates(shared_dir):
    schema = json.loads((shared_dir / "schemas/slack-manifest.schema.1.0.0.json").read_text())
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    jsonschema.validate(manifest, schema)
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/secbot", "/quiz", "/tip", "/compromised"}
    # Mentions arrive escaped (<@U123>), so "/compromised assign <id> @name" names a
    # person, not some text (the Slack door reads links and channels back as text).
    assert all(c["should_escape"] is True for c in manifest["features"]["slash_commands"])
    assert "connections:write" not in manifest["oauth_config"]["scopes"]["bot"]


def test_teams_package_validates_and_has_icons(shared_dir, tmp_path):
    schema = json.loads((shared_dir / "schemas/teams-manifest.schema.v1.22.json").read_text())
    out = tmp_path / "secbot-teams.zip"
    assert write_teams_package(APP_ID, str(out), "bot.dept.gov.uk") == 0
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
        assert _png_size(zf.read("color.png")) == (192, 192)
        assert _png_size(zf.read("outline.png")) == (32, 32)
    jsonschema.validate(manifest, schema)
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["bot.dept.gov.uk"]
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}


def test_teams_package_refuses_a_bad_app_id(tmp_path, capsys):
    assert write_teams_package("not-a-guid", str(tmp_path / "x.zip")) == 2
    assert "--app-id" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()


def test_secbot_command_writes_the_package(tmp_path):
    out = tmp_path / "pkg.zip"
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "teams-package", "--app-id", APP_ID, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("manifest.json"))["id"] == APP_ID
    assert teams_manifest(APP_ID)["manifestVersion"] == "1.22"


def test_the_wheel_ships_the_schema_migrations(tmp_path):
    """An installed secbot (not a checkout) can create and upgrade its database: Alembic's
    environment, template and every revision are in the wheel."""
    src = tmp_path / "src"
    shutil.copytree(
        ROOT, src,
        ignore=shutil.ignore_patterns(".venv", ".git", "tests", "build", "*.egg-info",
                                      "__pycache__", "node_modules", "bench"),
    )  # fmt: skip
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path)]
    proc = subprocess.run([*build, str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("secbot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = "bot/storage/migrations/"
    revisions = {
        f"{migrations}versions/{p.name}"
        for p in (ROOT / migrations / "versions").glob("*.py")
    }
    assert {f"{migrations}env.py", f"{migrations}script.py.mako", f"{migrations}legacy.py"} <= names
    assert revisions and revisions <= names
    # The self-assessment's questions are content the installed bot reads at start.
    assert "content/data/assessment/ncsc-five-principles.yml" in names
