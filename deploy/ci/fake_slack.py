"""A fake Slack Web API for deploy/replicas-ci.sh: it records every chat.postMessage.

Runs in a container made from the secbot image (which has aiohttp). Every post is recorded
as soon as its request has arrived, before the answer (held back by FAKE_SLACK_DELAY
seconds, so a fan-out is still going when the test kills a replica): a post Slack received
counts even if the replica that sent it died waiting for the answer. GET /calls lists them
with the address each came from. Replies to response_url land on /response/<id>.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os

from aiohttp import web

DELAY = float(os.environ.get("FAKE_SLACK_DELAY", "0.5"))
posts: list[dict] = []
responses: list[dict] = []
counter = itertools.count(1)


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
        posts.append({"n": n, "channel": channel, "tip": is_tip(body), "peer": request.remote})
        await asyncio.sleep(DELAY)
        return web.json_response({"ok": True, "channel": channel, "ts": f"{n}.000100"})
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
        {"posts": posts, "response_ids": [r["id"] for r in responses if r["id"].isdigit()]}
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
