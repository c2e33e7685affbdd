"""A fake Bot Connector: the service Teams bots reply to at the activity's serviceUrl."""

from __future__ import annotations

import asyncio
import itertools

from aiohttp import web

from tests.fakes.base import FakeServer


class FakeConnector(FakeServer):
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.fail_status: dict[str, int] = {}  # conversation id -> HTTP status to answer
        # Conversation members (the roster), by Teams id or Entra object id: the name
        # GET /v3/conversations/{id}/members/{member} answers with; others are 404.
        self.members: dict[str, str] = {}
        # Files attached in Teams, served at /files/<id> (a pre-authorised downloadUrl).
        self.files: dict[str, bytes] = {}
        # Teams ids (29:…) of roster members -> their Entra object id, the key of members:
        # a member looked up by Teams id answers with its object id, as the connector does.
        self.teams_ids: dict[str, str] = {}
        # While set and not open, messages sent are recorded but not answered: a reply
        # still on its way (tests of what happens before the bot's reply is posted).
        self.gate: asyncio.Event | None = None
        # The same for roster look-ups (GET members): a handler waiting on a person's name.
        self.lookup_gate: asyncio.Event | None = None
        super().__init__()

    def routes(self) -> list:
        return [
            web.post("/v3/conversations", self.create),
            # Any id, as the Bot Connector takes any (the default pattern refuses braces).
            web.post("/v3/conversations/{conv:[^/]+}/activities", self.send),
            web.post("/v3/conversations/{conv:[^/]+}/activities/{aid:[^/]+}", self.send),
            web.put("/v3/conversations/{conv:[^/]+}/activities/{aid:[^/]+}", self.update),
            web.get("/v3/conversations/{conv:[^/]+}/members/{member:[^/]+}", self.member),
            web.get("/files/{fid}", self.file),
        ]

    async def file(self, request: web.Request) -> web.Response:
        await self.record(request)
        data = self.files.get(request.match_info["fid"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    async def create(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response({"id": f"a:personal-{next(self._ids)}", "activityId": ""})

    async def send(self, request: web.Request) -> web.Response:
        await self.record(request)
        if self.gate is not None:
            await self.gate.wait()
        status = self.fail_status.get(request.match_info["conv"])
        if status:
            return web.json_response({"error": {"code": "Blocked", "message": "no"}}, status=status)
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    async def update(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response({"id": request.match_info["aid"]})

    async def member(self, request: web.Request) -> web.Response:
        await self.record(request)
        if self.lookup_gate is not None:
            await self.lookup_gate.wait()
        member = request.match_info["member"]
        aad = self.teams_ids.get(member, member)
        name = self.members.get(aad)
        if name is None:
            return web.json_response({"error": {"code": "NotFound", "message": "no"}}, status=404)
        teams_id = member if member in self.teams_ids else f"29:{member}"
        return web.json_response(
            {"id": teams_id, "name": name, "aadObjectId": aad, "userRole": "user"}
        )

    def sent(self) -> list[dict]:
        return [c.body for c in self.calls if c.method == "POST" and "/activities" in c.path]

    def lookups(self) -> list[str]:
        """The paths of the roster look-ups (GET members) made so far."""
        return [c.path for c in self.calls if c.method == "GET" and "/members/" in c.path]

    def updates(self) -> list[dict]:
        return [c.body for c in self.calls if c.method == "PUT"]
