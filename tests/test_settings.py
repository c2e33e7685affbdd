"""The settings model: every variable declared, misspelt names warned about at start-up,
docs/configuration.md generated from the model."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, load_settings, markdown, variable_names

ROOT = Path(__file__).resolve().parents[1]
CODE = ("bot", "content", "incidents")


def _start_and_stop(env: dict[str, str], cwd: Path) -> str:
    """Run ``python app.py`` until it says it is running, then stop it; its log."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    full = {k: v for k, v in full.items() if not k.startswith("SECBOT_")}
    full.update({"SECBOT_DB": str(cwd / "x.db"), "PORT": "0", **env})
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        env=full,
        cwd=cwd,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "is running" in line:
                break
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
        lines.append(rest)
    finally:
        if proc.poll() is None:
            proc.kill()
    return "".join(lines)


def test_a_misspelt_setting_is_warned_about_at_start_up_with_the_nearest_name(tmp_path):
    (tmp_path / ".env").write_text("SECBOT_ADMIN=U0123ABCD\n")
    log = _start_and_stop(
        {
            "SECBOT_TIMEZON": "Europe/Paris",
            "SECBOT_FROBNICATE": "1",
            # Named by the shipped routing example: read by paging, so not misspelt.
            "SECBOT_DUTY_PHONE": "07700 900123",
            "SECBOT_PAGERDUTY_ROUTING_KEY": "k" * 32,
        },
        tmp_path,
    )
    warnings = [line.split(": ", 1)[1] for line in log.splitlines() if " WARNING bot." in line]
    assert "SECBOT_TIMEZON is not a setting secbot knows; did you mean SECBOT_TIMEZONE?" in (
        warnings
    )
    assert "SECBOT_ADMIN is not a setting secbot knows; did you mean SECBOT_ADMINS?" in warnings
    assert "SECBOT_FROBNICATE is not a setting secbot knows" in warnings
    assert not [w for w in warnings if "DUTY_PHONE" in w or "ROUTING_KEY" in w]
    assert "Traceback" not in log


def test_known_settings_start_without_a_warning(tmp_path):
    log = _start_and_stop(
        {"SECBOT_TIMEZONE": "Europe/Paris", "SECBOT_TIP_CONCURRENCY": "5"}, tmp_path
    )
    assert "is not a setting secbot knows" not in log


def test_every_variable_the_code_reads_is_declared():
    """A ``SECBOT_*`` name in the code is a setting, or one of the few names that are
    examples or placeholders (routing files name their own variables)."""
    not_settings = {
        "SECBOT_NAME",  # ${SECBOT_NAME} in a routing-file message
        "SECBOT_X",
        "SECBOT_SOMETHING",
        "SECBOT_SMTP_",
        "SECBOT_SECRET_REMOVED_SET_ROUTING_FILE",  # written over a secret in a kept body
        "SECBOT_PAGERDUTY_ROUTING_KEY",  # named by the routing example
        "SECBOT_DUTY_PHONE",
        "SECBOT_SOC_WEBHOOK_SECRET",
    }
    found = set()
    for top in CODE:
        for path in (ROOT / top).rglob("*"):
            if path.suffix in (".py", ".yml", ".yaml") and path.is_file():
                found |= set(re.findall(r"\bSECBOT_[A-Z0-9_]+", path.read_text()))
    declared = set(variable_names())
    assert found - not_settings - declared == set()


def test_every_setting_has_a_description_and_a_default():
    for name, field in Settings.model_fields.items():
        assert field.description and field.description.endswith("."), name
        assert not field.is_required(), name


def test_docs_configuration_is_generated_from_the_model():
    """Regenerate with: python -m bot.settings --markdown > docs/configuration.md"""
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert text == markdown(), "docs/configuration.md is stale: regenerate it (see docstring)"
    for name in variable_names():
        assert f"| `{name}` |" in text


def test_a_wrong_type_is_one_line_naming_the_variable():
    with pytest.raises(ConfigError) as caught:
        load_settings({"SECBOT_INCIDENT_CHANNELS": "maybe"}, env_file=None)
    assert str(caught.value) == "SECBOT_INCIDENT_CHANNELS must be true or false, not 'maybe'"
    with pytest.raises(ConfigError, match=r"^SECBOT_SMTP_PORT must be a whole number from 1"):
        load_settings({"SECBOT_SMTP_PORT": "1e9"}, env_file=None)
    with pytest.raises(ConfigError, match=r"^SECBOT_PAGERDUTY_URL must be an http\(s\) URL"):
        load_settings({"SECBOT_PAGERDUTY_URL": "events.pagerduty.com"}, env_file=None)


def test_blank_values_mean_the_default_and_names_are_case_sensitive():
    s = load_settings({"SECBOT_TIP_CONCURRENCY": "  ", "secbot_db": "/nowhere"}, env_file=None)
    assert s.tip_concurrency == 50 and s.db_path == "./secbot.db"
    assert s.env("secbot_db") == "/nowhere"  # routing files may name any variable
