"""One process standing in for Slack's Web API, the Bot Connector and PagerDuty.

It answers as fast as it can and counts what it receives, so benchmarks measure
secbot, not the fake. ``GET /stats`` returns the counters; ``POST /reset`` clears them.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections import Counter

from aiohttp import web


def build() -> web.Application:
    counters: Counter[str] = Counter()
    posts_per_channel: Counter[str] = Counter()
    first_seen: dict[str, float] = {}
    pd_events: list[dict] = []
    ts = itertools.count(1)

    async def slack_api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        counters[method] += 1
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "team_id": "T1",
                    "user_id": "UBOT",
                    "bot_id": "BBOT",
                    "url": "https://x.slack.com/",
                }
            )
        if method == "chat.postMessage":
            body = (
                await request.json()
                if request.content_type == "application/json"
                else dict(await request.post())
            )
            channel = body.get("channel", "")
            posts_per_channel[channel] += 1
            first_seen.setdefault("first_post", time.time())
            first_seen["last_post"] = time.time()
            return web.json_response({"ok": True, "channel": channel, "ts": f"1.{next(ts)}"})
        await request.read()
        return web.json_response({"ok": True, "ts": f"2.{next(ts)}", "message_ts": "3.1"})

    async def response_url(request: web.Request) -> web.Response:
        await request.read()
        counters["response_url"] += 1
        return web.Response(text="ok")

    async def connector(request: web.Request) -> web.Response:
        await request.read()
        counters["connector"] += 1
        return web.json_response({"id": f"activity-{next(ts)}"})

    async def connector_create(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"id": f"a:personal-{next(ts)}"})

    async def pagerduty(request: web.Request) -> web.Response:
        body = await request.json()
        body["_received_at"] = time.time()
        pd_events.append(body)
        counters["pagerduty"] += 1
        return web.json_response(
            {"status": "success", "dedup_key": body.get("dedup_key")}, status=202
        )

    async def stats(request: web.Request) -> web.Response:
        dupes = sum(1 for n in posts_per_channel.values() if n > 1)
        return web.json_response(
            {
                "counters": counters,
                "channels": len(posts_per_channel),
                "duplicates": dupes,
                "first_post": first_seen.get("first_post"),
                "last_post": first_seen.get("last_post"),
                "pagerduty": pd_events,
            }
        )

    async def reset(request: web.Request) -> web.Response:
        counters.clear()
        posts_per_channel.clear()
        first_seen.clear()
        pd_events.clear()
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.add_routes(
        [
            web.post("/api/{method}", slack_api),
            web.post("/response/{rid}", response_url),
            web.post("/v3/conversations", connector_create),
            web.post("/v3/conversations/{conv}/activities", connector),
            web.post("/v3/conversations/{conv}/activities/{aid}", connector),
            web.put("/v3/conversations/{conv}/activities/{aid}", connector),
            web.post("/v2/enqueue", pagerduty),
            web.get("/stats", stats),
            web.get("/healthz", stats),
            web.post("/reset", reset),
        ]
    )
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(build(), host="127.0.0.1", port=args.port, access_log=None, print=None)
