"""deploy/prometheus/alerts.yml: valid for Prometheus (``promtool check rules``, skipped only
where promtool is not installed; .ci/run installs Debian's prometheus package, which has
it), and every secbot metric it names is one the app really serves."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support import start_bot, stop_bot

RULES = Path(__file__).resolve().parents[1] / "deploy" / "prometheus" / "alerts.yml"
WANTED = {
    "SecbotPagesFailing",
    "SecbotEscalationLate",
    "SecbotInboxBackingUp",
    "SecbotDeadLetters",
    "SecbotDatabaseNotReady",
}


def rules() -> list[dict]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


def test_promtool_accepts_the_rules():
    if shutil.which("promtool") is None:
        if os.environ.get("SECBOT_REQUIRE_PROMTOOL"):
            pytest.fail("no promtool found, and SECBOT_REQUIRE_PROMTOOL is set (as in CI)")
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    done = subprocess.run(
        ["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout + done.stderr


async def test_every_metric_the_rules_name_is_served(tmp_path):
    assert {r["alert"] for r in rules()} == WANTED
    named = {m for r in rules() for m in re.findall(r"secbot_[a-z_]+", r["expr"])}
    env = {"SECBOT_MODE": "development", "SECBOT_DB": str(tmp_path / "x.db")}
    bot = await start_bot(env)  # every feature, so paging's and the tips' gauges too
    try:
        async with bot.session.get(bot.url + "metrics", headers={"Host": "127.0.0.1"}) as r:
            assert r.status == 200
            served = {f.name for f in text_string_to_metric_families(await r.text())}
    finally:
        await stop_bot(bot)
    assert named and named <= served, named - served
