"""Refuse every request whose ``Host`` header is not one of secbot's names.

A page on another site can point its own host name at secbot's address (DNS rebinding)
and so reach a server only this machine or this network should reach; its requests
still carry that other name. The check applies to every route once a list is set
(``Settings.host_allow_list``). The peer address and ``X-Forwarded-*`` play no part.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.core.access import host_allowed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def host_guard(allowed: tuple[str, ...]):
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not host_allowed(request.headers.get("Host"), allowed):
            return web.json_response(
                {
                    "ok": False,
                    "error": "secbot doesn't answer to this host name. "
                    "Use the address you were given for it.",
                },
                status=421,
            )
        return await handler(request)

    return guard
