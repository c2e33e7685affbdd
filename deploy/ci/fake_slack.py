"""A fake Slack Web API for deploy/replicas-ci.sh: it records every chat.postMessage and
answers conversations.history from them.

Runs in a container made from the secbot image (which has aiohttp). Every post is recorded
(with its ts, from this machine's clock, and its message metadata) as soon as its request
has arrived, before the answer (held back by FAKE_SLACK_DELAY seconds, so a fan-out is
still going when the test kills a replica): a post Slack received counts, and is in the
channel's history, even if the replica that sent it died waiting for the answer.
conversations.history answers as Slack does: newest first, after ``oldest``, ``limit`` a
page, ``cursor`` / ``response_metadata.next_cursor``, metadata only with
``include_all_metadata``. GET /calls lists the posts with the address each came from, and
how many history reads there were. Replies to response_url land on /response/<id>.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import time

from aiohttp import web

DELAY = float(os.environ.get("FAKE_SLACK_DELAY", "0.5"))
posts: list[dict] = []
responses: list[dict] = []
counter = itertools.count(1)
channels: dict[str, list[dict]] = {}  # channel -> its messages, oldest first
history_reads: list[str] = []  # the channel of each conversations.history call
_last_us = 0


def next_ts() -> str:
    """A unique, increasing ts from the clock, as Slack's are."""
    global _last_us
    _last_us = max(int(time.time() * 1_000_000), _last_us + 1)
    return f"{_last_us // 1_000_000}.{_last_us % 1_000_000:06d}"


def history(args: dict) -> dict:
    channel = str(args.get("channel", ""))
    history_reads.append(channel)
    oldest = float(args.get("oldest") or 0)
    limit = max(1, min(int(args.get("limit") or 100), 999))
    cursor = str(args.get("cursor") or "")
    start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
    with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
    found = [m for m in reversed(channels.get(channel, [])) if float(m["ts"]) > oldest]
    page = found[start : start + limit]
    more = start + limit < len(found)
    messages = [{k: v for k, v in m.items() if with_meta or k != "metadata"} for m in page]
    after = base64.b64encode(f"next:{start + limit}".encode()).decode() if more else ""
    return {"ok": True, "messages": messages, "has_more": more,
            "response_metadata": {"next_cursor": after}}  # fmt: skip


async def body_of(request: web.Request) -> dict:
    if request.content_type == "application/json":
        data = await request.json()
        return data if isinstance(data, dict) else {}
    return dict(await request.post())


def is_tip(body: dict) -> bool:
    """A daily tip carries the tip:vote buttons (action ids tip:vote plus a suffix that keeps
    them unique); confirmations and replies do not."""
    blocks = body.get("blocks")
    text = blocks if isinstance(blocks, str) else json.dumps(blocks or [])
    return "tip:vote" in text


async def api(request: web.Request) -> web.Response:
    method = request.match_info["method"]
    body = await body_of(request)
    if method == "chat.postMessage":
        n = next(counter)
        channel = str(body.get("channel", ""))
        ts = next_ts()
        meta = body.get("metadata")
        meta = json.loads(meta) if isinstance(meta, str) else meta
        key = (meta or {}).get("event_payload", {}).get("key") if isinstance(meta, dict) else None
        posts.append({"n": n, "channel": channel, "tip": is_tip(body), "peer": request.remote,
                      "ts": ts, "key": key})  # fmt: skip
        message = {"type": "message", "ts": ts, "text": body.get("text"), "bot_id": "B0BOT"}
        if meta:
            message["metadata"] = meta
        channels.setdefault(channel, []).append(message)
        await asyncio.sleep(DELAY)
        return web.json_response({"ok": True, "channel": channel, "ts": ts})
    if method == "conversations.history":
        return web.json_response(history({**request.query, **body}))
    if method == "auth.test":
        return web.json_response(
            {"ok": True, "team_id": "T0CI", "user_id": "U0BOT", "bot_id": "B0BOT", "team": "CI"}
        )
    if method == "users.info":
        user = str(body.get("user", request.query.get("user", "")))
        return web.json_response(
            {"ok": True, "user": {"id": user, "name": user, "real_name": f"Person {user}"}}
        )
    n = next(counter)
    return web.json_response({"ok": True, "channel": str(body.get("channel", "")), "ts": f"{n}.1"})


async def response(request: web.Request) -> web.Response:
    responses.append({"id": request.match_info["rid"], "body": await body_of(request)})
    return web.Response(text="ok")


async def calls(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "posts": posts,
            "response_ids": [r["id"] for r in responses if r["id"].isdigit()],
            "history_reads": len(history_reads),
        }
    )


app = web.Application()
app.add_routes(
    [
        web.post("/api/{method}", api),
        web.get("/api/{method}", api),
        web.post("/response/{rid}", response),
        web.get("/calls", calls),
    ]
)

if __name__ == "__main__":
    port = int(os.environ.get("FAKE_SLACK_PORT", "8000"))
    web.run_app(app, host="0.0.0.0", port=port, print=None)
