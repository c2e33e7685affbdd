"""Front doors: only configured doors open, development mode is explicit and local, the
web chat signs people in, and no network position (peer address, X-Forwarded-For,
a Host or Origin header naming someone else) grants anything."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

from app import create_app
from bot.core.access import host_allowed, origin_allowed
from bot.settings import ConfigError, Settings, load_settings
from tests.support import (
    SIGNING_SECRET,
    run_app,
    start_bot,
    stop_bot,
    web_chat_env,
    web_secret,
    write_web_users,
)

ROOT = Path(__file__).resolve().parents[1]
SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": SIGNING_SECRET}
TEAMS = {"MICROSOFT_APP_ID": "app-id", "MICROSOFT_APP_PASSWORD": "app-password"}
DEV = {"SECBOT_MODE": "development"}
# Everything that has ever meant "this request is local" to some server.
LOCAL_CLAIMS = {
    "X-Forwarded-For": "127.0.0.1",
    "X-Real-IP": "127.0.0.1",
    "Forwarded": "for=127.0.0.1;host=localhost;proto=http",
    "X-Forwarded-Host": "localhost",
    "X-Client-IP": "::1",
}


def send_body(text: str = "help", user: str = "web-user-1", **extra) -> dict:
    return {
        "user_id": user,
        "conversation": "general",
        "request_id": os.urandom(6).hex(),
        "text": text,
        **extra,
    }


# --- development mode is explicit and local ---------------------------------------------


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({**DEV, **SLACK}, "SLACK_BOT_TOKEN"),
        ({**DEV, **TEAMS}, "MICROSOFT_APP_ID"),
        ({**DEV, "HOST": "0.0.0.0"}, "HOST"),
        ({**DEV, "HOST": "10.1.2.3"}, "HOST"),
        ({**DEV, "HOST": "secbot.example.gov.uk"}, "HOST"),
    ],
)
def test_development_mode_refuses_credentials_and_a_public_address(env, named):
    with pytest.raises(ConfigError) as err:
        load_settings(env, env_file=None)
    assert "SECBOT_MODE=development" in str(err.value) and named in str(err.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_development_mode_runs_on_this_machine(host):
    settings = load_settings({**DEV, "HOST": host}, env_file=None)
    assert settings.dev_mode and settings.webchat and not settings.webchat_authenticated


def test_create_app_holds_hand_built_settings_to_the_same_rules(tmp_path):
    """Settings made without load_settings can't slip an open door past the rules."""
    db = str(tmp_path / "x.db")
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        create_app(
            Settings(
                db_path=db, mode="development", slack_bot_token="xoxb", slack_signing_secret="s"
            )
        )
    with pytest.raises(ConfigError, match="HOST"):
        create_app(Settings(db_path=db, mode="development", host="0.0.0.0"))
    with pytest.raises(ConfigError, match="SECBOT_WEBCHAT_USERS_FILE"):
        create_app(Settings(db_path=db, webchat_mode="on"))  # production, no sign-in


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({**DEV, **SLACK}, "SLACK_BOT_TOKEN"),
        ({**DEV, "HOST": "0.0.0.0"}, "HOST must be 127.0.0.1, ::1 or localhost, not '0.0.0.0'"),
    ],
)
def test_app_refuses_development_mode_with_one_line_and_exit_2(tmp_path, env, named):
    proc = run_app(env, tmp_path)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("secbot can't start: SECBOT_MODE=development") and named in line
    assert SIGNING_SECRET not in proc.stderr


# --- the web chat: on only in development mode or with sign-in --------------------------


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, False),  # production, no users: off, whatever HOST says
        ({"HOST": "localhost"}, False),
        ({"HOST": "0.0.0.0"}, False),
        (DEV, True),
        ({**DEV, "SECBOT_WEBCHAT": "off"}, False),
        ({"USERS": "1"}, True),
        ({"USERS": "1", "HOST": "0.0.0.0"}, True),
        ({"USERS": "1", "SECBOT_WEBCHAT": "OFF"}, False),
        ({"USERS": "1", **DEV}, True),
    ],
)
def test_web_chat_is_on_in_development_mode_or_with_users(tmp_path, env, on):
    env = dict(env)
    if env.pop("USERS", None):
        env.update(web_chat_env(tmp_path))
    settings = load_settings(env, env_file=None)
    assert settings.webchat is on
    if on:
        assert settings.webchat_authenticated is ("SECBOT_WEBCHAT_USERS_FILE" in env)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SECBOT_WEBCHAT": "on"}, "SECBOT_WEBCHAT_USERS_FILE"),
        ({"SECBOT_WEBCHAT": "on", "HOST": "0.0.0.0"}, "SECBOT_WEBCHAT_USERS_FILE"),
        ({"SECBOT_WEBCHAT_USERS_FILE": "USERS"}, "SECBOT_ALLOWED_HOSTS"),
        ({"SECBOT_WEBCHAT_USERS_FILE": "/no/such/file"}, "SECBOT_WEBCHAT_USERS_FILE"),
        ({"SECBOT_ALLOWED_HOSTS": "http://secbot.example/"}, "SECBOT_ALLOWED_HOSTS"),
        ({"SECBOT_ALLOWED_HOSTS": "a b"}, "SECBOT_ALLOWED_HOSTS"),
    ],
)
def test_web_chat_settings_that_would_leave_it_open_are_refused(tmp_path, env, named):
    if env.get("SECBOT_WEBCHAT_USERS_FILE") == "USERS":
        env = {**env, "SECBOT_WEBCHAT_USERS_FILE": str(write_web_users(tmp_path / "u.txt"))}
    with pytest.raises(ConfigError, match=named):
        load_settings(env, env_file=None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("alice Alice Example hunter2\n", "line 1 must be"),
        ("# people\n\nalice Alice sha256:abc\n", "line 3 must be"),
        (f"bad/id Alice sha256:{'a' * 64}\n", "line 1: the user id"),
        (f"alice A sha256:{'a' * 64}\nalice B sha256:{'b' * 64}\n", "listed twice"),
        (f"alice A sha256:{'a' * 64}\nbob B sha256:{'a' * 64}\n", "same secret"),
        ("# nobody yet\n", "lists nobody"),
    ],
)
def test_a_bad_users_file_names_the_line_but_never_echoes_it(tmp_path, text, problem):
    path = tmp_path / "users.txt"
    path.write_text(text)
    env = {"SECBOT_WEBCHAT_USERS_FILE": str(path), "SECBOT_ALLOWED_HOSTS": "localhost"}
    with pytest.raises(ConfigError) as err:
        load_settings(env, env_file=None)
    assert problem in str(err.value) and "hunter2" not in str(err.value)


async def test_production_without_users_serves_no_web_chat(tmp_path):
    """No users file and no development mode: the page and its API are not there, and
    claiming to be local changes nothing."""
    bot = await start_bot({"SECBOT_DB": str(tmp_path / "p.db")}, features=[], content=False)
    try:
        for path in ("", "webchat/api/messages?user_id=u&conversation=general"):
            async with bot.session.get(bot.url + path, headers=LOCAL_CLAIMS) as r:
                assert r.status == 404, path
        async with bot.session.post(
            bot.url + "webchat/api/send", json=send_body(), headers=LOCAL_CLAIMS
        ) as r:
            assert r.status in (404, 405)
        async with bot.session.get(bot.url + "healthz") as r:
            doors = (await r.json())["front_doors"]
        assert doors["webchat"] is False and doors["development_mode"] is False
    finally:
        await stop_bot(bot)


# --- sign-in with a secret per person ------------------------------------------------------


async def test_the_secret_says_who_you_are_not_the_body(running):
    """web-user-2's secret with web-admin's id and another name in the body acts as
    web-user-2: no admin command, their own name, their own private replies."""
    headers = {"Authorization": f"Bearer {web_secret('web-user-2')}"}
    body = send_body("tip list", user="web-admin", name="Mallory Admin")
    async with running.session.post(
        running.url + "webchat/api/send", json=body, headers=headers
    ) as r:
        assert r.status == 200, await r.text()
    mine = await running.web_messages(user="web-user-2")
    assert mine[0]["name"] == "Web User" and mine[0]["text"] == "tip list"
    assert mine[-1]["private"] and "Only secbot admins" in mine[-1]["text"]
    admin_view = await running.web_messages(user="web-admin")
    assert [m["sender"] for m in admin_view] == ["user"]  # the refusal was not theirs

    # Reading messages: the query's user_id is ignored too.
    async with running.session.get(
        running.url + "webchat/api/messages",
        params={"user_id": "web-user-2", "conversation": "general"},
        headers={"Authorization": f"Bearer {web_secret('web-admin')}"},
    ) as r:
        assert [m["sender"] for m in (await r.json())["messages"]] == ["user"]


async def test_a_missing_or_wrong_secret_is_401_with_a_friendly_line(running, caplog):
    caplog.set_level(logging.INFO)
    wrong = "Bearer not-anyones-secret-4711"
    cases = [
        ({}, "Sign in first"),
        ({"Authorization": wrong}, "wasn't recognised"),
        ({"Authorization": f"Basic {web_secret('web-user-1')}"}, "Sign in first"),
        ({"Authorization": "Bearer " + "x" * 5000}, "Sign in first"),
    ]
    for headers, says in cases:
        async with running.session.post(
            running.url + "webchat/api/send", json=send_body(), headers=headers
        ) as r:
            assert r.status == 401
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
            data = await r.json()
        assert data["ok"] is False and says in data["error"] and data["sign_in"] is True
        for path in ("webchat/api/messages?conversation=general", "webchat/api/whoami"):
            async with running.session.get(running.url + path, headers=headers) as r:
                assert r.status == 401, path
    assert await running.web_messages(user="web-user-1") == []  # nothing was kept
    assert "not-anyones-secret-4711" not in caplog.text
    assert "web chat: refused a request without a recognised secret" in caplog.text


async def test_a_secret_that_is_not_text_is_401_not_500(running):
    """Raw bytes in the header (not UTF-8, control characters) are a wrong secret."""
    import asyncio

    port = int(running.url.rsplit(":", 1)[1].strip("/"))
    for secret in (b"\xff\xfe\x80", "caf\u00e9".encode(), b"a\x01b"):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"GET /webchat/api/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer " + secret + b"\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        await writer.wait_closed()
        assert status_line.split()[1] in (b"400", b"401"), (secret, status_line)
    async with running.session.get(running.url + "healthz") as r:
        assert r.status == 200


async def test_whoami_names_the_person_behind_the_secret(running):
    async with running.session.get(
        running.url + "webchat/api/whoami", headers=running.web_headers("web-admin")
    ) as r:
        data = await r.json()
    assert data == {"ok": True, "sign_in": "secret", "user_id": "web-admin", "name": "Web User"}


async def test_claiming_to_be_local_grants_nothing(running):
    """X-Forwarded-For and friends, from a client on this very machine, are not a sign-in."""
    async with running.session.post(
        running.url + "webchat/api/send", json=send_body(), headers=LOCAL_CLAIMS
    ) as r:
        assert r.status == 401
    async with running.session.get(
        running.url + "webchat/api/messages",
        params={"user_id": "web-user-1", "conversation": "general"},
        headers=LOCAL_CLAIMS,
    ) as r:
        assert r.status == 401
    assert await running.web_messages(user="web-user-1") == []


# --- Host allow-list: every route -----------------------------------------------------------


async def test_a_foreign_host_name_is_refused_on_every_route(running):
    """DNS rebinding: another site's name pointed at our address reaches nothing, with or
    without a secret, and whatever the forwarding headers claim."""
    from tests.endpoints import ENDPOINTS  # every route the app serves

    routes = [(e.method, e.path.lstrip("/")) for e in ENDPOINTS]
    assert ("GET", "privacy") in routes and ("GET", "terms") in routes
    headers = {"Host": "evil.example", **running.web_headers("web-user-1"), **LOCAL_CLAIMS}
    for method, path in routes:
        async with running.session.request(
            method, running.url + path, headers=headers, json=send_body()
        ) as r:
            assert r.status == 421, (method, path)
            assert "doesn't answer to this host name" in (await r.json())["error"]
    assert await running.web_messages(user="web-user-1") == []
    for host in ("127.0.0.1", "127.0.0.1:443", "127.0.0.1."):
        async with running.session.get(running.url + "healthz", headers={"Host": host}) as r:
            assert r.status == 200, host
    # Our name with something else after it is not our name: a proxy reading
    # "127.0.0.1:80@evil.example" as user info and a host, or a port that is no port,
    # may send the request somewhere else than we think.
    for host in (
        "127.0.0.1:80@evil.example",
        "127.0.0.1:evil.example",
        "127.0.0.1:443/x",
        "127.0.0.1:999999",
        "127.0.0.1:-1",
        "127.0.0.1:1:2",
    ):
        async with running.session.get(running.url + "healthz", headers={"Host": host}) as r:
            assert r.status == 421, host


async def test_development_mode_answers_only_to_this_machines_names(tmp_path):
    bot = await start_bot({"SECBOT_DB": str(tmp_path / "d.db"), **DEV}, features=[], content=False)
    try:
        for host, status in [
            ("evil.example", 421),
            ("localhost.evil.example", 421),
            ("10.0.0.5:3978", 421),
            ("localhost:3978", 200),
            ("LOCALHOST", 200),
            ("[::1]:3978", 200),
            ("127.0.0.1:3978", 200),
        ]:
            for path in ("", "healthz"):
                async with bot.session.get(bot.url + path, headers={"Host": host}) as r:
                    assert r.status == status, (host, path)
    finally:
        await stop_bot(bot)


async def test_allowed_hosts_apply_even_with_no_web_chat(tmp_path):
    env = {"SECBOT_DB": str(tmp_path / "h.db"), "SECBOT_ALLOWED_HOSTS": "secbot.example.gov.uk"}
    bot = await start_bot(env, features=[], content=False)
    try:
        async with bot.session.get(bot.url + "healthz") as r:  # Host: 127.0.0.1:port
            assert r.status == 421
        headers = {"Host": "secbot.example.gov.uk:443"}
        async with bot.session.get(bot.url + "healthz", headers=headers) as r:
            assert r.status == 200
    finally:
        await stop_bot(bot)


# --- Origin on state-changing web chat requests ----------------------------------------------


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "https://127.0.0.1.evil.example", "null", "file://", "ftp://127.0.0.1"],
)
async def test_a_foreign_origin_cannot_post(running, origin):
    """A page elsewhere, even one holding a secret, can't post into the chat."""
    headers = {"Origin": origin, **running.web_headers("web-user-1")}
    async with running.session.post(
        running.url + "webchat/api/send", json=send_body(), headers=headers
    ) as r:
        assert r.status == 403
        assert "another website" in (await r.json())["error"]
    assert await running.web_messages(user="web-user-1") == []


async def test_our_own_origin_and_no_origin_can_post(running):
    port = running.url.rsplit(":", 1)[1].strip("/")
    for origin in (f"http://127.0.0.1:{port}", "https://127.0.0.1", None):
        headers = running.web_headers("web-user-1")
        if origin:
            headers["Origin"] = origin
        async with running.session.post(
            running.url + "webchat/api/send", json=send_body(), headers=headers
        ) as r:
            assert r.status == 200, origin
    mine = await running.web_messages(user="web-user-1")
    assert [m["sender"] for m in mine].count("user") == 3


async def test_development_mode_checks_origin_too(tmp_path):
    """Without sign-in, the Origin check is what stops another site posting as anyone."""
    bot = await start_bot({"SECBOT_DB": str(tmp_path / "o.db"), **DEV}, content=False)
    try:
        for origin, status in [("http://evil.example", 403), ("http://localhost:3978", 200)]:
            async with bot.session.post(
                bot.url + "webchat/api/send", json=send_body(), headers={"Origin": origin}
            ) as r:
                assert r.status == status, origin
        msgs = await bot.web_messages(user="web-user-1")
        assert [m["sender"] for m in msgs].count("user") == 1
    finally:
        await stop_bot(bot)


# --- the start-up log lists every door --------------------------------------------------------


async def test_start_up_logs_each_door_and_how_it_authenticates(slack_env, caplog):
    caplog.set_level(logging.INFO, logger="secbot")
    bot = await start_bot(slack_env, features=[], content=False)
    await stop_bot(bot)
    lines = [r.getMessage() for r in caplog.records if r.name == "secbot"]
    assert "mode: production" in lines
    assert "slack_http: on, Slack signing secret" in lines
    assert "slack_socket_mode: off (set SLACK_APP_TOKEN)" in lines
    assert any(line.startswith("teams: ") for line in lines)
    count = len(bot.settings.webchat_users)
    assert f"webchat: on, shared secret per user ({count} people)" in lines
    assert "hosts: answers only to Host 127.0.0.1" in lines
    assert SIGNING_SECRET not in caplog.text


async def test_start_up_log_in_development_mode(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="secbot")
    bot = await start_bot({"SECBOT_DB": str(tmp_path / "l.db"), **DEV}, features=[], content=False)
    await stop_bot(bot)
    lines = [r.getMessage() for r in caplog.records if r.name == "secbot"]
    assert "mode: development" in lines
    assert "slack_http: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)" in lines
    assert "webchat: on, development mode, no sign-in" in lines
    assert "hosts: answers only to Host localhost, 127.0.0.1, [::1]" in lines


async def test_app_py_logs_the_doors_at_start_up(tmp_path):
    """The real entry point, as `make run` starts it: one line per door, then running."""
    import asyncio

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_", "SECBOT_", "HOST"))
    }
    env.update({"SECBOT_DB": str(tmp_path / "m.db"), "PORT": "0", **DEV})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "app.py"),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    seen: list[str] = []

    async def read_until_running() -> None:
        assert proc.stderr is not None
        while line := (await proc.stderr.readline()).decode():
            seen.append(line.rstrip("\n"))
            if "is running" in line:
                return

    try:
        await asyncio.wait_for(read_until_running(), 120)  # a guard against a hang only
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
    text = "\n".join(seen)
    assert "is running" in text, text
    for door in (
        "mode: development",
        "slack_http: off",
        "slack_socket_mode: off",
        "teams: ",
        "webchat: on, development mode, no sign-in",
        "hosts: answers only to Host localhost, 127.0.0.1, [::1]",
    ):
        assert door in text, door


NASTY = [
    "",
    ":",
    "[",
    "[::1",
    "[::1]x",
    "[zz]:1",
    ":::",
    "a" * 300,
    "xn--",
    "xn--zz.example",
    "http://xn--zz.example",
    "http://[::1",
    "http://a:99999999",
    "http://\u00e9.example",
    "\udcff",
    "\x00",
    "localhost\r\nX: y",
    "https://user:pw@localhost",
    "http://localhost/path",
    "http://localhost?q",
]


@pytest.mark.parametrize("value", NASTY)
def test_any_host_or_origin_header_is_judged_without_error(value):
    """Whatever a client puts in Host or Origin, the checks answer yes or no."""
    allowed = ("localhost", "127.0.0.1", "[::1]")
    assert host_allowed(value, allowed) is False
    assert origin_allowed(value, allowed) is False
    assert origin_allowed("http://" + value, allowed) in (True, False)


async def test_start_up_warns_when_no_door_is_on(tmp_path, caplog):
    """Production with nothing configured starts, but says plainly that nobody can reach it."""
    caplog.set_level(logging.INFO, logger="secbot")
    bot = await start_bot({"SECBOT_DB": str(tmp_path / "n.db")}, features=[], content=False)
    await stop_bot(bot)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(w.startswith("no front door is on") for w in warnings), warnings
    caplog.clear()
    bot = await start_bot({"SECBOT_DB": str(tmp_path / "d.db"), **DEV}, features=[], content=False)
    await stop_bot(bot)
    assert not any("no front door" in r.getMessage() for r in caplog.records)
