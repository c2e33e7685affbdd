"""One process standing in for Slack's Web API, the Bot Connector and PagerDuty.

These are the tests' own fakes (tests/fakes/), served together on one port, so the
bench and the tests agree on what the platforms answer. They answer at once; the
bench reads what arrived from ``GET /stats`` (``POST /reset`` clears it). What each
fake records is folded into the counters as soon as its request is answered and then
dropped, so a long run keeps no per-request history in memory.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer
from tests.fakes.connector import FakeConnector
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.slack_api import FakeSlack


class BenchApis:
    """The three fakes behind one application, and what they received, counted."""

    def __init__(self) -> None:
        self.slack = FakeSlack()
        self.connector = FakeConnector()
        self.pagerduty = FakePagerDuty()
        self.reset()

    def reset(self) -> None:
        self.counters: Counter[str] = Counter()
        self.posts_per_channel: Counter[str] = Counter()
        # Kept as posts arrive, not counted over every channel at each poll of /stats
        # (about a millisecond a poll at 100,000 channels, ten polls a second).
        self.duplicates = 0
        self.first_post: float | None = None
        self.last_post: float | None = None
        self.pd_events: list[dict[str, Any]] = []
        for fake in self._fakes():
            fake.calls.clear()
        self.slack.messages.clear()

    def _fakes(self) -> tuple[FakeServer, ...]:
        return (self.slack, self.connector, self.pagerduty)

    def take(self) -> None:
        """Fold the fakes' recorded calls into the counters and forget them."""
        for call in self.slack.calls:
            if call.path.startswith("/response/"):
                self.counters["response_url"] += 1
                continue
            method = call.path.rsplit("/", 1)[-1]
            self.counters[method] += 1
            if method == "chat.postMessage" and isinstance(call.body, dict):
                channel = call.body.get("channel", "")
                self.posts_per_channel[channel] += 1
                if self.posts_per_channel[channel] == 2:
                    self.duplicates += 1
                self.first_post = self.first_post or call.at
                self.last_post = call.at
        if self.connector.calls:
            self.counters["connector"] += len(self.connector.calls)
        for call in self.pagerduty.calls:
            self.counters["pagerduty"] += 1
            if isinstance(call.body, dict):
                self.pd_events.append({**call.body, "_received_at": call.at})
        for fake in self._fakes():
            fake.calls.clear()
        # What each channel holds (for conversations.history) is dropped too: the bench
        # kills nothing mid-post, so nothing looks a post up.
        self.slack.messages.clear()

    def stats(self) -> dict[str, Any]:
        self.take()
        return {
            "counters": self.counters,
            "channels": len(self.posts_per_channel),
            "duplicates": self.duplicates,
            "first_post": self.first_post,
            "last_post": self.last_post,
            "pagerduty": self.pd_events,
        }

    def build(self) -> web.Application:
        @web.middleware
        async def counted(request: web.Request, handler) -> web.StreamResponse:
            try:
                return await handler(request)
            finally:
                self.take()

        async def stats(request: web.Request) -> web.Response:
            return web.json_response(self.stats())

        async def reset(request: web.Request) -> web.Response:
            self.reset()
            return web.json_response({"ok": True})

        app = web.Application(client_max_size=4 * 1024 * 1024, middlewares=[counted])
        for fake in self._fakes():
            app.add_routes(fake.routes())
        app.add_routes(
            [web.get("/stats", stats), web.get("/healthz", stats), web.post("/reset", reset)]
        )
        return app


def build() -> web.Application:
    return BenchApis().build()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(build(), host="127.0.0.1", port=args.port, access_log=None, print=None)
