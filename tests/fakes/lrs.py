"""A fake learning record store (xAPI 1.0.3 statements resource): keeps each statement by
its id, answers a repeat with the same content 204 and a different one 409, as an LRS
does, and can be told to fail the next calls (with a Retry-After) to test retries."""

from __future__ import annotations

import base64
import json

from aiohttp import web

from tests.fakes.base import FakeServer


class FakeLrs(FakeServer):
    def __init__(self, username: str = "lrs-key", password: str = "lrs-secret") -> None:
        self.auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.statements: dict[str, dict] = {}
        self.failures: list[int] = []  # statuses to answer first, in order
        self.puts = 0
        super().__init__()

    def routes(self) -> list:
        return [web.put("/xapi/statements", self.put)]

    @property
    def endpoint(self) -> str:
        return self.url + "xapi"

    async def put(self, request: web.Request) -> web.Response:
        await self.record(request)
        self.puts += 1
        if request.headers.get("Authorization") != self.auth:
            return web.json_response({"error": "unauthorised"}, status=401)
        if request.headers.get("X-Experience-API-Version") != "1.0.3":
            return web.json_response({"error": "version"}, status=400)
        if self.failures:
            return web.Response(status=self.failures.pop(0), headers={"Retry-After": "5"})
        ident = request.query.get("statementId", "")
        body = json.loads(await request.read())
        if body.get("id") != ident:
            return web.json_response({"error": "id mismatch"}, status=400)
        if ident in self.statements and self.statements[ident] != body:
            return web.Response(status=409)
        self.statements[ident] = body
        self._changed.set()
        return web.Response(status=204)
