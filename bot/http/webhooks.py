"""The door for signed calls from other services (``/webhooks/...``): PagerDuty's V3
webhooks and the generic paging callback.

It only translates: the raw body (signatures are over the exact bytes sent, so nothing
may re-encode it first), the headers and the path's parts go to the receiver a feature
registered (``host.add_webhook``, :mod:`bot.core.webhooks`), whose :class:`Answer`
becomes the response. The receiver checks the signature before it asks for the JSON,
which is parsed here the one safe way (:mod:`bot.http.json_body`). Bodies over the
app's size limit get the usual 413 before any of this runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.core.webhooks import Answer, Inbound, Receiver
from bot.http.json_body import parse_json, refusal


def _door(receiver: Receiver) -> Any:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        content_type, charset = request.content_type, (request.charset or "utf-8").lower()

        def parse(raw: bytes) -> Any:
            if content_type != "application/json" or charset not in ("utf-8", "utf8"):
                raise refusal(415, "Send JSON with Content-Type: application/json.")
            return parse_json(raw)

        answer: Answer = await receiver(
            Inbound(body, request.headers, dict(request.match_info), parse)
        )
        return web.json_response(answer.body, status=answer.status)

    return handle


def webhook_routes(webhooks: Mapping[str, Receiver]) -> list[web.RouteDef]:
    """One ``POST`` route per registered path."""
    return [web.post(path, _door(receiver)) for path, receiver in sorted(webhooks.items())]
