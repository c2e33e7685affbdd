"""Log formats: SECBOT_LOG_FORMAT=json gives one JSON object per line with the time, level,
logger, message, correlation id, front door and incident; text stays the default; an
unknown format stops the start with one line. In neither format does a realistic session
(Slack, Teams and web chat traffic carrying a known secret) leak message text, tokens or
secrets into the log."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot import logs
from bot.core import correlation
from tests.support import (
    SIGNING_SECRET,
    TEAMS_TEST_ENV,
    eventually,
    kept_slack,
    run_app,
    web_secret,
)

SECRET = "hunter2-Correct-Horse-Battery-Staple"
SPOKEN = f"my password was {SECRET} and they changed it"


class Capture:
    """Both formats at once, on the root logger at INFO (what `make run` logs)."""

    def __init__(self) -> None:
        self.text, self.json = io.StringIO(), io.StringIO()
        self.handlers = []
        for stream, fmt in ((self.text, "text"), (self.json, "json")):
            handler = logging.StreamHandler(stream)
            handler.setFormatter(logs.formatter(fmt))
            handler.addFilter(correlation.CorrelationFilter())
            self.handlers.append(handler)

    def __enter__(self) -> Capture:
        root = logging.getLogger()
        self.level = root.level
        root.setLevel(logging.INFO)
        for h in self.handlers:
            root.addHandler(h)
        return self

    def __exit__(self, *exc) -> None:
        root = logging.getLogger()
        for h in self.handlers:
            root.removeHandler(h)
        root.setLevel(self.level)


def slack_event(event: dict, event_id: str) -> str:
    return json.dumps({
        "type": "event_callback", "team_id": "T111", "api_app_id": "A111",
        "event_id": event_id, "event_time": 1, "event": event,
    })  # fmt: skip


async def test_no_message_text_token_or_secret_in_either_format(running, fake_slack):
    with Capture() as cap:
        # Slack: a slash command, a mistyped one, a direct message, a button nobody knows.
        await running.slash("/compromised", SPOKEN, user="U1", channel="C1")
        await running.slash("/secbot", SPOKEN, user="U1", channel="C1")
        dm = {"type": "message", "text": SPOKEN, "channel": "D1", "channel_type": "im",
              "user": "U1", "ts": "1.4"}  # fmt: skip
        await running.slack_post(slack_event(dm, "EvLog1"), content_type="application/json")
        await running.click("nothing:here", SECRET, user="U1", channel="C1")
        # A handler that logs (tips: subscription set): a line with a correlation id.
        await running.slash("/tip", "subscribe 09:30", user="U1", channel="C1")
        # A request with a bad signature is refused (and logged) without its body.
        await running.slack_post(f"text={SECRET}", headers={"X-Slack-Signature": "v0=bad"})
        # Teams: a personal chat and a channel mention.
        await running.teams_say(SPOKEN, personal=True)
        await running.teams_say(f"quiz {SECRET}", mention=True)
        # The web chat: start an incident and tell it what happened.
        await running.web_send(text="compromised")
        await running.web_send(text=SPOKEN)
        await running.web_send(text=f"quiz {SECRET}")
        await fake_slack.wait_for(lambda s: s.responses() or s.api_calls("chat.postMessage"))
        await eventually(lambda: not kept_slack(running.settings.db_path))
    text, lines = cap.text.getvalue(), cap.json.getvalue().splitlines()
    assert text.strip() and lines
    secrets = [
        SECRET, "Correct-Horse", "xoxb-test-token", SIGNING_SECRET,
        TEAMS_TEST_ENV["MICROSOFT_APP_PASSWORD"], web_secret("web-user-1"),
    ]  # fmt: skip
    for secret in secrets:
        assert secret not in text, secret
        assert secret not in cap.json.getvalue(), secret
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry)
    assert any(e.get("correlation_id") for e in entries)


def test_json_lines_carry_the_context():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    handler.addFilter(correlation.CorrelationFilter())
    log = logging.getLogger("secbot.test.logs")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        with correlation.correlated("abc123"), correlation.at_door("teams"):
            with correlation.incident_scope():
                correlation.about_incident("INC-7")
                log.info("escalating %s", "step 2")
            log.warning("after the incident")
        log.info("outside")
    finally:
        log.removeHandler(handler)
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "escalating step 2"
    assert (first["level"], first["logger"]) == ("info", "secbot.test.logs")
    assert (first["correlation_id"], first["front_door"], first["incident_id"]) == (
        "abc123", "teams", "INC-7",
    )  # fmt: skip
    assert first["time"].endswith("+00:00")
    assert "incident_id" not in second and second["front_door"] == "teams"
    assert "correlation_id" not in third and "front_door" not in third


def test_an_unknown_log_format_is_one_line_and_exit_2(tmp_path):
    done = run_app({"SECBOT_MODE": "development", "SECBOT_LOG_FORMAT": "xml"}, tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "secbot can't start: SECBOT_LOG_FORMAT must be text or json, not 'xml'"
    )


def test_the_app_logs_json_lines_when_asked(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "SECBOT_"))
    }
    env.update({"SECBOT_MODE": "development", "SECBOT_LOG_FORMAT": "json", "PORT": "0",
                "SECBOT_DB": str(tmp_path / "x.db")})  # fmt: skip
    app = Path(__file__).resolve().parents[1] / "app.py"
    proc = subprocess.Popen(
        [sys.executable, str(app)], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(json.loads(line))  # nothing but JSON objects
            if "is running" in seen[-1]["message"]:
                break
        # SIGINT: a clean stop whether or not the stop handlers are in place yet.
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert seen and all({"time", "level", "logger", "message"} <= set(e) for e in seen)
    for line in rest.splitlines():  # JSON to the last line
        assert {"time", "level", "message"} <= set(json.loads(line))
