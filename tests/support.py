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

    async def teams(self, activity: dict, headers: dict | None = None) -> tuple[int, Any]:
        """POST an activity to /api/messages. When Teams is authenticated, it carries a
        valid Bot Connector token for the activity's serviceUrl unless ``headers`` holds
        an Authorization of its own."""
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
            return r.status, (json.loads(text) if text.strip().startswith("{") else text)

    async def teams_say(self, text: str, **kw: Any) -> tuple[int, Any]:
        return await self.teams(teams_activity(text, service_url=self.connector.url, **kw))

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


def kept_slack(db_path: str) -> list:
    """The Slack deliveries kept in the inbox (acknowledged, not yet handled), as
    ``Inbox.pending`` gives them: (id, kind, payload) in order; read on a connection of
    its own, synchronously, so a check in ``eventually`` can say ``not kept_slack(...)``."""
    import json

    from sqlalchemy import select

    from bot.storage.db import open_db
    from bot.storage.inbox import RAW, inbox
    from bot.storage.sql import run

    db = open_db(db_path)
    try:
        query = select(inbox.c.id, inbox.c.kind, inbox.c.payload)
        rows = run(db, query.where(inbox.c.source == "slack").order_by(inbox.c.id)).all()
        return [(i, k, p if k == RAW else json.loads(p)) for i, k, p in rows]
    finally:
        db.close()


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


class TestBackend:
    """``await backend.exec_command("quiz")`` returns the replies, as errbot's test backend does."""

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
