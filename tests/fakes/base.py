"""A recording aiohttp server on a free loopback port."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Call:
    method: str
    path: str
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.time)  # when it arrived (the bench times by it)


class FakeServer:
    """Subclasses add routes in ``routes()``; every request is recorded in ``calls``."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.app = web.Application()
        self.app.add_routes(self.routes())
        self.server: TestServer | None = None
        self._changed = asyncio.Event()

    def routes(self) -> list:
        return []

    async def start(self) -> FakeServer:
        self.server = TestServer(self.app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server:
            await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/"))

    async def record(self, request: web.Request) -> Any:
        raw = await request.read()
        body: Any
        ctype = request.content_type
        if ctype == "application/json":
            body = json.loads(raw or b"null")
        elif ctype == "application/x-www-form-urlencoded":
            # slack_sdk sends some calls' fields in the query string (files.* v2).
            body = {**request.query, **dict((await request.post()).items())}
            for k, v in list(body.items()):
                if k in ("blocks", "attachments") and isinstance(v, str):
                    try:
                        body[k] = json.loads(v)
                    except json.JSONDecodeError:
                        pass
        else:
            body = raw.decode("utf-8", "replace")
        self.calls.append(Call(request.method, request.path, body, dict(request.headers)))
        self._changed.set()
        return body

    def named(self, path_suffix: str) -> list[Call]:
        return [c for c in self.calls if c.path.endswith(path_suffix)]

    async def wait_for(self, predicate, timeout: float = 15.0):
        """Wait until ``predicate(self)`` is truthy; return its value.

        It returns as soon as the predicate holds, so the generous default costs nothing
        when things work and keeps a loaded two-core CI machine from failing a good run.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate(self)
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out waiting; calls so far: {[c.path for c in self.calls]}"
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass
