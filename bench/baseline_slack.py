"""The Slack baseline: a bare slack-bolt AsyncApp on aiohttp that acks with fixed text.

Same bolt, same signature checks, same aiohttp: the best a bare framework can do
on this machine, so our figures can be read as a ratio against it.
"""

from __future__ import annotations

import argparse
import os
import re

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build() -> web.Application:
    client = AsyncWebClient(token="xoxb-bench", base_url=os.environ["SLACK_API_URL"])
    # process_before_response=True: the response goes out as soon as the listener
    # returns, without bolt's 10 ms ack-polling loop. That is the fastest bolt can answer,
    # and it is how secbot's own Slack front door runs.
    app = AsyncApp(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
    )

    @app.command(re.compile(r"^/.+"))
    async def command(ack):
        await ack("Thanks, noted.")

    @app.action(re.compile(r".+"))
    async def action(ack):
        await ack()

    async def events(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    web_app.router.add_get("/healthz", healthz)
    return web_app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(build(), host="127.0.0.1", port=args.port, access_log=None, print=None)
