"""Test helpers: run the real app on loopback, and speak each platform's wire format.

Slack requests are signed exactly as Slack signs them; Teams activities follow the
Bot Framework schema with ``serviceUrl`` pointing at a fake Bot Connector.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from app import create_app
from bot.core import Bot, Turn
from bot.core.access import users_file_line
from bot.core.model import Actor, Incoming, Message, MessageRef, Place
from bot.settings import Settings, load_settings
from tests.fakes.botframework import TEST_APP_ID, FakeBotFramework, sign_token

SIGNING_SECRET = "test-signing-secret"
_counter = itertools.count(1)

# The web chat's people in the test users file; RunningBot.web_send signs in as them.
WEB_USERS = (
    *(f"web-user-{n}" for n in range(1, 41)),
    "web-admin",
    "web-reporter",
    "web-team",
    "web-head",
    "web-stranger",
    "web-long",
    "web-nosy",
    "web-helper",
    "web-new-lead",
    "web-step",
    *(f"web-{c}" for c in "abcdefgh"),
    "alice",
    "bob",
    "duty-officer",
    "stranger",
    "someone-else",
    "u",
)
WEB_USER_NAME = "Web User"


def web_secret(user: str) -> str:
    """The test secret of a web chat user (only its SHA-256 is in the users file)."""
    return f"test-web-secret-{user}-0123456789"


def write_web_users(path: Path, users: tuple[str, ...] = WEB_USERS) -> Path:
    lines = ["# secbot web chat users for the tests"]
    lines += [users_file_line(u, WEB_USER_NAME, web_secret(u)) for u in users]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def web_chat_env(folder: Path) -> dict[str, str]:
    """Settings for the web chat with sign-in (production), served as 127.0.0.1."""
    return {
        "SECBOT_WEBCHAT_USERS_FILE": str(write_web_users(folder / "webchat-users.txt")),
        "SECBOT_ALLOWED_HOSTS": "127.0.0.1",
    }


def sign_slack(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    sig = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def slack_typed(text: str) -> str:
    """What Slack sends for ``text`` typed into a slash command: the manifest asks for
    escaping (``should_escape``), so a typed ``&``, ``<`` or ``>`` arrives as an entity,
    and only Slack's own markup (``<@U123>``, ``<!channel>``, links) arrives as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def help_burst(bot: Any, fake_slack: Any, prefix: str, n: int) -> list[str]:
    """``n`` ``/secbot help`` commands sent at once, each with its own response URL: every
    one acknowledged with 200; returns once Slack has every answer. The triggers, in order."""
    triggers = [f"{prefix}.{i}" for i in range(n)]
    answers = await asyncio.gather(
        *(
            bot.slack_post(
                slash_command_body(
                    "/secbot", "help", response_url=fake_slack.response_url(t), trigger_id=t
                )
            )
            for t in triggers
        )
    )
    assert [a.status for a in answers] == [200] * n
    await fake_slack.wait_for(lambda s: len(s.responses()) >= n)
    return triggers


def slash_command_body(
    command: str,
    text: str = "",
    *,
    user: str = "U111",
    channel: str = "C111",
    channel_name: str = "general",
    response_url: str = "",
    trigger_id: str | None = None,
    team: str = "T111",
    enterprise: str | None = None,
) -> str:
    grid = {"enterprise_id": enterprise} if enterprise else {}
    return urlencode(
        {
            **grid,
            "token": "legacy-token-unused",
            "team_id": team,
            "team_domain": "gov",
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": f"user-{user.lower()}",
            "command": command,
            "text": text,
            "api_app_id": "A111",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or new_trigger(),
        }
    )


def new_trigger() -> str:
    """A fresh trigger id as Slack makes them (``<n>.<n>.<hex>``); the middle part is when
    it was made, in milliseconds, which the fake Slack's views.open checks (three seconds)."""
    return f"{next(_counter)}.{time.time_ns() // 1_000_000}.{uuid.uuid4().hex[:12]}"


def view_submission_body(
    view: dict,
    typed: dict[str, str] | None = None,
    *,
    user: str = "U111",
    team: str = "T111",
    trigger_id: str | None = None,
) -> str:
    """Pressing submit on a modal the fake Slack opened (``fake_slack.views``): Slack's
    ``view_submission`` with what is in each text box (its initial value unless ``typed``
    says otherwise) in ``view.state.values``, and the view's ``private_metadata`` as sent."""
    values: dict[str, dict] = {}
    for block in view.get("blocks", []):
        element = block.get("element") or {}
        if block.get("type") == "input" and element.get("type") == "plain_text_input":
            name = element["action_id"]
            text = (typed or {}).get(name, element.get("initial_value"))
            values[block["block_id"]] = {name: {"type": "plain_text_input", "value": text}}
    payload = {
        "type": "view_submission",
        "team": {"id": team, "domain": "gov"},
        "user": {"id": user, "username": f"user-{user.lower()}", "name": f"user-{user.lower()}",
                 "team_id": team},
        "api_app_id": "A111",
        "token": "legacy-token-unused",
        "trigger_id": trigger_id or new_trigger(),
        "view": {**view, "team_id": team, "type": "modal", "state": {"values": values}},
        "response_urls": [],
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)})


def block_actions_body(
    action_id: str,
    value: str,
    *,
    user: str = "U111",
    channel: str = "C111",
    message_ts: str = "1700000000.000001",
    response_url: str = "",
    is_ephemeral: bool = False,
    action_ts: str | None = None,
    team: str = "T111",
    enterprise: str | None = None,
    selected_user: str | None = None,
    block_id: str = "b1",
    typed: dict[str, str] | None = None,
) -> str:
    """A button click; with ``selected_user``, a pick from a user menu (``users_select``)
    in the block ``block_id``; ``typed`` is what was typed into the message's text
    inputs (Slack's ``state.values``), by input name."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {
            "id": user,
            "username": f"user-{user.lower()}",
            "name": f"user-{user.lower()}",
            "team_id": team,
        },
        "api_app_id": "A111",
        "token": "legacy-token-unused",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": new_trigger(),
        "team": {"id": team, "domain": "gov"},
        "channel": {"id": channel, "name": "general"},
        "message": {"type": "message", "ts": message_ts, "text": "", "blocks": []},
        "response_url": response_url,
        "actions": [
            {
                "action_id": f"{action_id}#0.0",
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "x"},
                "value": value,
                "type": "button",
                "action_ts": action_ts or f"{time.time():.6f}{next(_counter)}",
            }
        ],
    }
    if selected_user is not None:
        payload["actions"][0] = {
            "action_id": f"{action_id}#1",
            "block_id": block_id,
            "type": "users_select",
            "selected_user": selected_user,
            "action_ts": payload["actions"][0]["action_ts"],
        }
    if typed is not None:
        payload["state"] = {
            "values": {
                f"in{i}": {name: {"type": "plain_text_input", "value": text}}
                for i, (name, text) in enumerate(typed.items())
            }
        }
    if enterprise:
        payload["enterprise"] = {"id": enterprise, "name": "Gov org"}
        payload["user"]["enterprise_id"] = enterprise
    return urlencode({"payload": json.dumps(payload)})


def teams_activity(
    text: str = "",
    *,
    service_url: str,
    conversation: str = "19:chan@thread.tacv2",
    personal: bool = False,
    user: str = "29:user-1",
    aad: str = "aad-user-1",
    name: str = "Alex Example",
    value: dict | None = None,
    reply_to_id: str | None = None,
    mention: bool = False,
    activity_type: str = "message",
    invoke_name: str | None = None,
    activity_id: str | None = None,
    tenant: str = "tenant-1",
) -> dict:
    conv: dict[str, Any] = {
        "id": conversation,
        "tenantId": tenant,
        "conversationType": "personal" if personal else "channel",
    }
    if not personal:
        conv["isGroup"] = True
    act: dict[str, Any] = {
        "type": activity_type,
        "id": activity_id or f"act-{next(_counter)}",
        "timestamp": "2026-11-25T10:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user, "name": name, "aadObjectId": aad},
        "conversation": conv,
        "recipient": {"id": "28:bot-id", "name": "secbot"},
        "channelData": {"tenant": {"id": tenant}},
        "locale": "en-GB",
    }
    if text:
        act["text"] = f"<at>secbot</at> {text}" if mention else text
        act["textFormat"] = "plain"
        if mention:
            act["entities"] = [
                {
                    "type": "mention",
                    "text": "<at>secbot</at>",
                    "mentioned": {"id": "28:bot-id", "name": "secbot"},
                }
            ]
    if value is not None:
        act["value"] = value
    if reply_to_id:
        act["replyToId"] = reply_to_id
    if invoke_name:
        act["name"] = invoke_name
    return act


def teams_invoke(
    verb: str,
    value: str = "",
    *,
    service_url: str,
    reply_to_id: str = "activity-1",
    typed: dict[str, str] | None = None,
    **kw: Any,
) -> dict:
    """A card button (Action.Execute); ``typed`` is what was typed into the card's text
    inputs, which Teams sends in the action's data."""
    return teams_activity(
        service_url=service_url,
        activity_type="invoke",
        invoke_name="adaptiveCard/action",
        reply_to_id=reply_to_id,
        value={
            "action": {
                "type": "Action.Execute",
                "verb": verb,
                "data": {**(typed or {}), "action_id": verb, "value": value},
            },
            "trigger": "manual",
        },
        **kw,
    )


@dataclass
class RunningBot:
    """The real app served on a free loopback port, plus an HTTP client for it."""

    app: web.Application
    runner: web.AppRunner
    url: str
    session: aiohttp.ClientSession
    settings: Settings
    slack: Any = None
    connector: Any = None
    # The fake Bot Framework login service the bot fetches its signing keys from, if any,
    # and whether start_bot started it (then stop_bot stops it).
    botframework: Any = None
    owns_botframework: bool = False

    async def slack_post(
        self,
        body: str,
        *,
        headers: dict | None = None,
        timestamp: int | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> aiohttp.ClientResponse:
        h = {"Content-Type": content_type, **sign_slack(body, timestamp)}
        h.update(headers or {})
        async with self.session.post(self.url + "slack/events", data=body.encode(), headers=h) as r:
            await r.read()
            return r

    async def slash(self, command: str, text: str = "", **kw: Any) -> aiohttp.ClientResponse:
        kw.setdefault("response_url", self.slack.response_url() if self.slack else "")
        return await self.slack_post(slash_command_body(command, text, **kw))

    async def click(self, action_id: str, value: str, **kw: Any) -> aiohttp.ClientResponse:
        kw.setdefault("response_url", self.slack.response_url() if self.slack else "")
        return await self.slack_post(block_actions_body(action_id, value, **kw))

    async def submit(
        self, view: dict, typed: dict[str, str] | None = None, **kw: Any
    ) -> tuple[int, Any]:
        """Submit a modal (``view_submission_body``): the status and what the app answered
        in the response (None when empty: the modal closes)."""
        body = view_submission_body(view, typed, **kw)
        h = {"Content-Type": "application/x-www-form-urlencoded", **sign_slack(body)}
        async with self.session.post(self.url + "slack/events", data=body.encode(), headers=h) as r:
            text = (await r.read()).decode()
            return r.status, json.loads(text) if text else None

    async def teams(
        self, activity: dict, headers: dict | None = None, *, handled: bool = True
    ) -> tuple[int, Any]:
        """POST an activity to /api/messages. When Teams is authenticated, it carries a
        valid Bot Connector token for the activity's serviceUrl unless ``headers`` holds
        an Authorization of its own.

        A message activity is kept and acknowledged (202) before it is handled; with
        ``handled`` (the default) this returns once the app has handled it (its replies
        are at the fake connector), as a Teams user would wait for the reply.
        ``handled=False`` returns with the acknowledgement."""
        h = {"Content-Type": "application/json", **(headers or {})}
        if self.settings is not None and self.settings.teams_authenticated:
            if not any(k.lower() == "authorization" for k in h):
                token = sign_token(
                    str(activity.get("serviceUrl", "")), app_id=self.settings.microsoft_app_id
                )
                h["Authorization"] = f"Bearer {token}"
        async with self.session.post(
            self.url + "api/messages", data=json.dumps(activity), headers=h
        ) as r:
            text = await r.text()
            status = r.status
        if status == 202 and handled:
            await teams_handled(self)
        return status, (json.loads(text) if text.strip().startswith("{") else text)

    async def teams_say(self, text: str, *, handled: bool = True, **kw: Any) -> tuple[int, Any]:
        activity = teams_activity(text, service_url=self.connector.url, **kw)
        return await self.teams(activity, handled=handled)

    async def teams_click(self, verb: str, value: str = "", **kw: Any) -> tuple[int, Any]:
        return await self.teams(teams_invoke(verb, value, service_url=self.connector.url, **kw))

    async def web_send(
        self,
        *,
        user: str = "web-user-1",
        conversation: str = "general",
        text: str | None = None,
        action: dict | None = None,
        request_id: str | None = None,
        extra: dict | None = None,
    ) -> tuple[int, Any]:
        """``extra``: more of the body, such as ``{"share": {...}}`` or ``{"upload": {...}}``."""
        body: dict[str, Any] = {
            "user_id": user,
            "conversation": conversation,
            "name": "Web User",
            "request_id": request_id or f"r{next(_counter)}",
        }
        if text is not None:
            body["text"] = text
        if action is not None:
            body["action"] = action
        body.update(extra or {})
        async with self.session.post(
            self.url + "webchat/api/send", json=body, headers=self.web_headers(user)
        ) as r:
            return r.status, await r.json()

    async def web_messages(
        self, *, user: str = "web-user-1", conversation: str = "general", after: int = 0
    ) -> list[dict]:
        async with self.session.get(
            self.url + "webchat/api/messages",
            params={"user_id": user, "conversation": conversation, "after": str(after)},
            headers=self.web_headers(user),
        ) as r:
            data = await r.json()
            assert r.status == 200, (r.status, data)
            return data["messages"]

    def web_headers(self, user: str) -> dict[str, str]:
        """The user's bearer secret when the web chat signs people in (the body's user_id
        is then ignored); nothing in development mode without accounts."""
        if self.settings is not None and self.settings.webchat_authenticated:
            if not any(u.user_id == user for u in self.settings.webchat_users):
                raise AssertionError(
                    f"web chat user {user!r} is not in the users file: add it to "
                    "tests.support.WEB_USERS"
                )
            return {"Authorization": f"Bearer {web_secret(user)}"}
        return {}


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy.

    It returns as soon as the check holds, so the generous timeout costs nothing when
    things work and keeps a loaded two-core CI machine from failing a good run."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for a condition")
        await asyncio.sleep(0.02)


async def slack_handled(bot: RunningBot) -> None:
    """Wait until every Slack delivery the app has acknowledged has been handled (its kept
    body leaves the inbox only then): after a burst of clicks, before counting effects."""
    from bot.server import SERVICES
    from bot.storage.inbox import Inbox

    inbox = Inbox(bot.app[SERVICES].db)

    async def empty() -> bool:
        return not await inbox.pending("slack")

    await eventually(empty)


async def teams_handled(bot: RunningBot) -> None:
    """Wait until every Teams message activity the app has acknowledged has been handled
    (or tried: one that failed waits for a later try, and is not waited for)."""
    from bot.adapters.teams.intake import TEAMS_INTAKE

    await eventually(bot.app[TEAMS_INTAKE].idle)


def kept_slack(db_path: str) -> list:
    """The Slack deliveries kept in the inbox (acknowledged, not yet handled), as
    ``Inbox.pending`` gives them: (id, kind, payload) in order; read on a connection of
    its own, synchronously, so a check in ``eventually`` can say ``not kept_slack(...)``."""
    url = database_url_for(db_path)
    if url is not None:
        return in_a_thread(_kept_in(url))
    import json

    db = RawFile(db_path)
    try:
        rows = db.execute(
            "SELECT id, kind, payload FROM inbox WHERE source = 'slack' ORDER BY id"
        ).fetchall()
        return [(i, k, p if k == "http" else json.loads(p)) for i, k, p in rows]
    finally:
        db.close()


async def _kept_in(url: str) -> list:
    from bot.storage.db import open_db
    from bot.storage.inbox import Inbox

    db = open_db(url)
    try:
        return await Inbox(db).pending("slack")
    finally:
        await db.close()


# Which database the suite runs on: sqlite (the default) or postgres (make test runs both).
TEST_DATABASE = os.environ.get("SECBOT_TEST_DATABASE", "sqlite").lower()
PG_SERVER: str | None = None  # the session's PostgreSQL server (tests/conftest.py)
_PG_DATABASES: dict[str, str] = {}


def database_url_for(path) -> str | None:
    """On PostgreSQL: the URL of the database that stands for the SQLite file ``path``
    (made the first time it is named); on SQLite, None."""
    if TEST_DATABASE != "postgres":
        return None
    assert PG_SERVER is not None, "the test_database fixture sets PG_SERVER"
    key = str(Path(path).resolve())
    if key not in _PG_DATABASES:
        name = "t_" + hashlib.sha256(key.encode()).hexdigest()[:20]
        in_a_thread(admin_sql(PG_SERVER, f'CREATE DATABASE "{name}"'))
        _PG_DATABASES[key] = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    return _PG_DATABASES[key]


async def admin_sql(url: str, statement: str) -> None:
    """One statement on PostgreSQL outside a transaction (CREATE/DROP DATABASE)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


def in_a_thread(coro):
    """Run ``coro`` to the end on an event loop of its own, in a thread of its own: callable
    from sync code whether or not this thread has a loop (pytest-asyncio's) set."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def every_row_text(url: str) -> str:
    """Every row of every table of the database at ``url``, as one text (to look for
    something that must not be stored)."""
    from sqlalchemy import inspect, text

    from bot.storage.db import open_db

    db = open_db(url)
    try:
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            rows = [repr((await conn.execute(text(f'SELECT * FROM "{t}"'))).all()) for t in tables]
        return "\n".join(rows)
    finally:
        await db.close()


async def trace_sql(db, sink) -> None:
    """Every statement SQLite runs on ``db`` (an in-memory one: ``open_db(":memory:")`` has
    one connection), with its values in place, goes to ``sink``; ``None`` stops it."""
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.set_trace_callback(sink)


async def query_plan(db, sql: str) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN for ``sql`` (as ``trace_sql`` saw it), one line a step."""
    async with db.engine.connect() as conn:
        rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)).all()
    return [r[3] for r in rows]


class RawFile:
    """A SQLite file on a plain sqlite3 connection (autocommit, rows by name), for tests
    that read or set up rows by hand: ``db.execute(sql, params)``, ``db.conn``,
    ``db.close()``. The app's own handle is ``bot.storage.sql.Db`` (asynchronous)."""

    def __init__(self, path):
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA busy_timeout=5000")

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def close(self) -> None:
        self.conn.close()


class RawDatabase:
    """:class:`RawFile`'s ``execute(sql, params)`` and ``close()`` on the PostgreSQL
    database that stands for a SQLite path (``database_url_for``): SQL text with ``?``
    placeholders, each statement committed at once on a connection of its own. Rows are
    tuples by position (``fetchall()``, ``fetchone()``)."""

    def __init__(self, url: str):
        self.url = url

    def execute(self, sql: str, params=()) -> _Rows:
        return _Rows(in_a_thread(_run_text(self.url, sql, list(params))))

    def close(self) -> None:
        pass


class _Rows(list):
    def fetchall(self) -> list:
        return list(self)

    def fetchone(self):
        return self[0] if self else None


async def _run_text(url: str, sql: str, params: list) -> list:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    head, *rest = sql.split("?")
    statement = head + "".join(f":p{i}{part}" for i, part in enumerate(rest))
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), {f"p{i}": v for i, v in enumerate(params)})
            return [tuple(r) for r in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()


def raw_file(path) -> RawFile | RawDatabase:
    """The database by hand, for a row the stores would never write or a count they have
    no method for: the SQLite file, or on PostgreSQL the database that stands for it
    (plain SQL that both understand; see :class:`RawDatabase`)."""
    url = database_url_for(path)
    return RawFile(path) if url is None else RawDatabase(url)


def sqlite_file(path) -> RawFile:
    """The SQLite file itself (PRAGMAs, ``sqlite_master``, a legacy file's own SQL); on
    PostgreSQL the test is skipped, saying so."""
    if TEST_DATABASE == "postgres":
        import pytest

        pytest.skip("SQLite only: reads or writes the SQLite file itself")
    return RawFile(path)


async def ready_db(target):
    """The app's database handle for ``target`` (a SQLite path or a URL), its schema up to
    date: for tests that drive a store directly. ``await db.close()`` at the end."""
    from bot.storage.db import open_db
    from bot.storage.schema import upgrade

    if str(target) == ":memory:" and TEST_DATABASE == "postgres":
        target = f":memory:{uuid.uuid4().hex}"  # a new database each time, as in memory
    db = open_db(target if "://" in str(target) else database_url_for(target) or target)
    await upgrade(db)
    return db


TEAMS_TEST_ENV = {"MICROSOFT_APP_ID": TEST_APP_ID, "MICROSOFT_APP_PASSWORD": "test-app-password"}


async def start_bot(
    env: dict[str, str],
    *,
    clock=None,
    slack=None,
    connector=None,
    features: list[str] | None = None,
    content=None,
    botframework: FakeBotFramework | None = None,
) -> RunningBot:
    """The real app on a free loopback port.

    Teams runs as in production: given a ``connector`` (and no SECBOT_MODE=development),
    the bot gets a test app id; with an app id, its key fetches go to ``botframework``
    (a fake Bot Framework login service; one is started, and stopped by stop_bot, when
    none is given and the env names no SECBOT_BOTFRAMEWORK_OPENID_URL).
    """
    env = dict(env)
    own = None
    dev = (env.get("SECBOT_MODE") or "").lower() == "development"
    if connector is not None and not dev and not env.get("MICROSOFT_APP_ID"):
        env.update(TEAMS_TEST_ENV)
    if env.get("MICROSOFT_APP_ID") and not env.get("SECBOT_BOTFRAMEWORK_OPENID_URL"):
        if botframework is None:
            botframework = own = await FakeBotFramework().start()
        env["SECBOT_BOTFRAMEWORK_OPENID_URL"] = botframework.metadata_url
    url = database_url_for(env.get("SECBOT_DB", "./secbot.db"))
    if url is not None and "SECBOT_DATABASE_URL" not in env:
        env["SECBOT_DATABASE_URL"] = url
    try:
        settings = load_settings(env, env_file=None)
        app = create_app(settings, clock=clock, features=features, content=content)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
    except BaseException:
        if own is not None:
            await own.close()
        raise
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    session = aiohttp.ClientSession()
    url = f"http://127.0.0.1:{port}/"
    return RunningBot(
        app, runner, url, session, settings, slack, connector, botframework, own is not None
    )


async def stop_bot(bot: RunningBot) -> None:
    await bot.session.close()
    await bot.runner.cleanup()
    if bot.owns_botframework:
        await bot.botframework.close()


# --- errbot-style backend: drive the core with no platform at all -----------------------


@dataclass
class RecordingResponder:
    replies: list[Message] = field(default_factory=list)
    updates: list[Message] = field(default_factory=list)

    async def reply(self, msg: Message) -> MessageRef | None:
        self.replies.append(msg)
        return MessageRef(Place("test", "w", "c"), str(len(self.replies)))

    async def update_original(self, msg: Message) -> None:
        self.updates.append(msg)


async def backend_bot(env: dict[str, str], **app: Any) -> Bot:
    """The core of the app for ``env`` with no front door running, its database ready
    (opened, schema up to date, as a start would leave it): for :class:`TestBackend`.
    ``app`` goes to ``create_app`` (``features=``, ``content=``, ``clock=``). Close it
    with ``await close_backend_bot(bot)``."""
    from bot.server import SERVICES, start_database

    env = dict(env)
    url = database_url_for(env.get("SECBOT_DB", "./secbot.db"))
    if url is not None and "SECBOT_DATABASE_URL" not in env:
        env["SECBOT_DATABASE_URL"] = url
    settings = load_settings(env, env_file=None)
    services = create_app(settings, **app)[SERVICES]
    await start_database(services.db, settings)
    return Bot(services)


async def close_backend_bot(bot: Bot) -> None:
    await bot.services.db.close()


class TestBackend:
    """``await backend.exec_command("quiz")`` returns the replies, as errbot's test backend does.
    Build its bot with :func:`backend_bot` (the database must be ready)."""

    __test__ = False

    def __init__(self, bot: Bot, *, user: str = "U1", channel: str = "C1", direct: bool = False):
        self.bot = bot
        self.actor = Actor("test", user, "Tester")
        self.place = Place("test", "w", channel, is_direct=direct)

    async def exec_command(self, text: str) -> list[Message]:
        responder = RecordingResponder()
        await self.bot.handle(
            Incoming(self.actor, self.place, "text", f"test:{next(_counter)}", text=text), responder
        )
        return responder.replies

    async def click(self, action_id: str, value: str = "") -> RecordingResponder:
        responder = RecordingResponder()
        await self.bot.handle(
            Incoming(
                self.actor,
                self.place,
                "action",
                f"test:{next(_counter)}",
                action_id=action_id,
                value=value,
            ),
            responder,
        )
        return responder


__all__ = ["Turn"]


def run_app(env: dict[str, str], tmp_path: Path, **run: Any) -> subprocess.CompletedProcess:
    """``python app.py`` in ``tmp_path``, for the tests of what stops it starting: no
    platform or secbot variable from the caller's environment, a database in
    ``tmp_path``, any free port, then ``env``. ``run`` goes to ``subprocess.run``."""
    full = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_", "SECBOT_", "HOST"))
    }
    full.update({"SECBOT_DB": str(tmp_path / "x.db"), "PORT": "0", **env})
    return subprocess.run(
        [sys.executable, str(Path(__file__).resolve().parents[1] / "app.py")],
        env=full,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        **run,
    )
