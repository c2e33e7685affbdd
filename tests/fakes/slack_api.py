"""A fake Slack Web API (and response_url receiver, and Socket Mode websocket)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.base import FakeServer

# The bot scope each method needs, from Slack's own reference pages
# (docs.slack.dev/reference/methods/<method> and /reference/scopes/<scope>), written here
# independently of bot/adapters/slack/scopes.py so a test can catch that table being wrong.
# chat:write covers chat.postMessage to a person's user id: Slack posts it in the app's
# messages tab with that person, with no conversations.open (which needs im:write) first.
SLACK_REFERENCE_SCOPES: dict[str, str] = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "users.info": "users:read",
    "conversations.open": "im:write",
    "conversations.invite": "groups:write",  # a private channel
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}


def reference_scope(method: str, body: Any) -> str | None:
    """The scope Slack's reference says ``method`` needs as called (None: not modelled)."""
    if method == "conversations.create":
        private = isinstance(body, dict) and str(body.get("is_private")).lower() in ("1", "true")
        return "groups:write" if private else "channels:manage"
    return SLACK_REFERENCE_SCOPES.get(method)


def trigger_issued(trigger_id: str) -> float | None:
    """When a test's trigger id was made (seconds since the epoch), or None."""
    parts = trigger_id.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return int(parts[1]) / 1000


class FakeSlack(FakeServer):
    def __init__(self) -> None:
        # The bot token's scopes; None grants everything. A method whose reference scope is
        # missing answers missing_scope, as Slack does, and is kept in ``refused``.
        self.granted: set[str] | None = None
        self.refused: list[tuple[str, str]] = []  # (method, the scope it needed)
        self._ts = itertools.count(1)
        self.channel_errors: dict[str, str] = {}
        self.rate_limits: dict[str, int] = {}  # method -> how many 429s to answer first
        self.retry_after = "1"  # the 429s' Retry-After, in seconds
        self.method_errors: dict[str, str] = {}  # method -> Slack error to answer with
        self.held: dict[str, asyncio.Event] = {}  # method -> answer only once this is set
        # users.info answers: user id -> display name (others are user_not_found).
        self.users: dict[str, str] = {}
        # Files shared in Slack, served at /files/<id> to the bot token only.
        self.files: dict[str, bytes] = {}
        self.token = "xoxb-test-token"  # SLACK_BOT_TOKEN in the tests
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_messages: list[dict] = []
        self.socket_connected = asyncio.Event()
        # views.open: the views opened, and the trigger ids already exchanged for one.
        self.views: list[dict] = []
        self._exchanged: set[str] = set()
        # What is in each channel (chat.postMessage that Slack took), oldest first, for
        # conversations.history; ``private`` channels need groups:history to read, others
        # channels:history. A post whose caller was gone by the time Slack would take it
        # (held, then its process killed) is not taken, as with a real kill.
        self.messages: dict[str, list[dict]] = {}
        self.private: set[str] = set()
        # Where a message's ts comes from: seconds since the epoch. None keeps the old
        # made-up ts (1700000000.000001, ...) that many tests click with; a test that
        # reads history by time (``oldest``) sets it to the bot's clock.
        self.clock: Callable[[], float] | None = None
        self._last_us = 0
        # method -> how many of its calls Slack carries out and then drops the connection
        # of, unanswered (a reset after the request went out).
        self.drop_after: dict[str, int] = {}
        # method -> how many of its calls Slack carries out and then answers 500 to.
        self.fail_after: dict[str, int] = {}
        super().__init__()

    def posted(self, channel: str | None = None) -> list[dict]:
        """The messages Slack took (in one channel, or all), oldest first."""
        if channel is not None:
            return list(self.messages.get(channel, []))
        return sorted(
            (m for ms in self.messages.values() for m in ms), key=lambda m: float(m["ts"])
        )

    def _post_ts(self) -> str:
        if self.clock is None:
            return f"1700000000.{next(self._ts):06d}"
        us = max(int(self.clock() * 1_000_000), self._last_us + 1)  # unique, increasing
        self._last_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _take_post(self, channel: str, body: dict) -> str:
        ts = self._post_ts()
        meta = body.get("metadata")
        if isinstance(meta, str):
            meta = json.loads(meta)
        message = {"type": "message", "ts": ts, "bot_id": "BBOT", "channel": channel,
                   "text": body.get("text"), "blocks": body.get("blocks")}  # fmt: skip
        if meta:
            message["metadata"] = meta
        self.messages.setdefault(channel, []).append(message)
        return ts

    def history(self, request: web.Request, body: Any) -> web.Response:
        """conversations.history as Slack answers it: newest first, after ``oldest``
        (exclusive), ``limit`` a page (at most 999), paged by ``cursor`` /
        ``response_metadata.next_cursor``; a message's metadata only with
        ``include_all_metadata``."""
        args = {**request.query, **(body if isinstance(body, dict) else {})}
        channel = str(args.get("channel", ""))
        needed = "groups:history" if channel in self.private else "channels:history"
        if self.granted is not None and needed not in self.granted:
            self.refused.append(("conversations.history", needed))
            return web.json_response({"ok": False, "error": "missing_scope", "needed": needed})
        oldest = float(args.get("oldest") or 0)
        limit = max(1, min(int(args.get("limit") or 100), 999))
        cursor = str(args.get("cursor") or "")
        start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
        with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [m for m in reversed(self.messages.get(channel, [])) if float(m["ts"]) > oldest]
        page = found[start : start + limit]
        more = start + limit < len(found)
        messages = [
            {k: v for k, v in m.items() if k != "channel" and (with_meta or k != "metadata")}
            for m in page
        ]
        next_cursor = base64.b64encode(f"next:{start + limit}".encode()).decode() if more else ""
        return web.json_response({
            "ok": True, "messages": messages, "has_more": more,
            "response_metadata": {"next_cursor": next_cursor},
        })  # fmt: skip

    def routes(self) -> list:
        return [
            web.post("/api/{method}", self.api),
            web.get("/api/{method}", self.api),  # slack_sdk reads some methods with GET
            web.post("/response/{rid}", self.on_response),
            web.post("/upload/{fid}", self.upload),
            web.get("/socket", self.socket),
            web.get("/files/{fid}", self.file),
        ]

    def file_url(self, fid: str) -> str:
        return f"{self.url}files/{fid}"

    async def file(self, request: web.Request) -> web.Response:
        """A file's url_private_download: only with the bot token (Authorization)."""
        await self.record(request)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=403)
        data = self.files.get(request.match_info["fid"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    def api_calls(self, method: str) -> list[Any]:
        return [c.body for c in self.calls if c.path == f"/api/{method}"]

    def responses(self) -> list[Any]:
        return [c.body for c in self.calls if c.path.startswith("/response/")]

    def response_url(self, rid: str = "r1") -> str:
        return f"{self.url}response/{rid}"

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self.record(request)
        if method in self.held:
            await self.held[method].wait()
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the caller is gone: Slack never took it
        if self.rate_limits.get(method, 0) > 0:
            self.rate_limits[method] -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": self.retry_after},
            )
        if method in self.method_errors:
            return web.json_response({"ok": False, "error": self.method_errors[method]})
        if method == "conversations.history":
            return self.history(request, body)
        needed = reference_scope(method, body)
        if self.granted is not None and needed is not None and needed not in self.granted:
            self.refused.append((method, needed))
            return web.json_response({"ok": False, "error": "missing_scope", "needed": needed})
        channel = body.get("channel") if isinstance(body, dict) else None
        if channel in self.channel_errors and method.startswith("chat."):
            return web.json_response({"ok": False, "error": self.channel_errors[channel]})
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "url": "https://example.slack.com/",
                    "team": "T",
                    "user": "secbot",
                    "team_id": "T111",
                    "user_id": "UBOT",
                    "bot_id": "BBOT",
                }
            )
        if method == "chat.postMessage":
            ts = self._take_post(str(channel), body)
            if self.drop_after.get(method, 0) > 0:
                self.drop_after[method] -= 1
                if request.transport is not None:
                    request.transport.abort()  # taken, but the answer never comes
                return web.Response(status=499)
            if self.fail_after.get(method, 0) > 0:
                self.fail_after[method] -= 1
                return web.Response(status=500, text="Internal Server Error")
            return web.json_response(
                {
                    "ok": True,
                    "channel": channel,
                    "ts": ts,
                    "message": {"text": body.get("text"), "ts": ts},
                }
            )
        if method == "users.info":
            user = request.query.get("user") or (
                body.get("user") if isinstance(body, dict) else None
            )
            if user not in self.users:
                return web.json_response({"ok": False, "error": "user_not_found"})
            name = self.users[user]
            profile = {"display_name": name, "real_name": f"{name} (real)"}
            return web.json_response(
                {"ok": True, "user": {"id": user, "name": user.lower(), "profile": profile}}
            )
        if method == "views.open":
            return self.open_view(body)
        if method == "chat.postEphemeral":
            return web.json_response({"ok": True, "message_ts": f"1700000001.{next(self._ts):06d}"})
        if method == "apps.connections.open":
            ws = self.url.replace("http://", "ws://") + "socket"
            return web.json_response({"ok": True, "url": ws})
        if method == "files.getUploadURLExternal":
            fid = f"F{next(self._ts)}"
            return web.json_response(
                {"ok": True, "file_id": fid, "upload_url": f"{self.url}upload/{fid}"}
            )
        if method == "files.completeUploadExternal":
            return web.json_response({"ok": True, "files": [{"id": "F1", "title": "report"}]})
        return web.json_response({"ok": True})

    def open_view(self, body: dict) -> web.Response:
        """views.open as Slack answers it: a trigger id is good once, for three seconds
        from the click (tests.support makes them as ``<n>.<ms since epoch>.<hex>``)."""
        trigger = str(body.get("trigger_id") or "")
        issued = trigger_issued(trigger)
        if issued is None:
            return web.json_response({"ok": False, "error": "invalid_trigger_id"})
        if trigger in self._exchanged:
            return web.json_response({"ok": False, "error": "exchanged_trigger_id"})
        if time.time() - issued > 3.0:
            return web.json_response({"ok": False, "error": "expired_trigger_id"})
        self._exchanged.add(trigger)
        view = body.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        opened = {**view, "id": f"V{next(self._ts)}", "hash": f"{time.time():.6f}.h"}
        self.views.append(opened)
        return web.json_response({"ok": True, "view": opened})

    async def on_response(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.Response(text="ok")

    async def upload(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.Response(text="OK")

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self.socket_connected.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.socket_messages.append(json.loads(msg.data))
                self._changed.set()
        return ws

    async def push(self, envelope: dict) -> None:
        await self.socket_connected.wait()
        await self.sockets[-1].send_str(json.dumps(envelope))
