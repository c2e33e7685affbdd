"""A webhook receiver that records raw bodies, so tests can verify the signature."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from tests.fakes.base import FakeServer
from tests.fakes.pagerduty import PATIENCE


@dataclass
class Delivery:
    raw: bytes
    headers: dict[str, str]


class FakeWebhook(FakeServer):
    def __init__(self, responses: list[int] | None = None, default: int = 200) -> None:
        self.responses = list(responses or [])
        self.default = default
        self.deliveries: list[Delivery] = []
        super().__init__()

    async def wait_for(self, predicate, timeout: float = PATIENCE):
        return await super().wait_for(predicate, timeout)

    def routes(self) -> list:
        return [web.post("/hook", self.hook)]

    @property
    def hook_url(self) -> str:
        return self.url + "hook"

    async def hook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.deliveries.append(Delivery(raw, dict(request.headers)))
        await self.record(request)
        status = self.responses.pop(0) if self.responses else self.default
        return web.Response(status=status, text="ok" if status < 300 else "failed")
