"""Every HTTP request counted and timed, in one aiohttp middleware for every front door."""

from __future__ import annotations

import time

from aiohttp import web

from bot.core import correlation
from bot.metrics.registry import Metrics

# The front door a path belongs to, by its first segment (a route pattern, never a raw path).
_DOORS = {
    "slack": "slack",
    "api": "teams",
    "webchat": "web",
    "": "web",
    "privacy": "web",
    "terms": "web",
    "healthz": "operations",
    "readyz": "operations",
    "metrics": "operations",
    "webhooks": "webhooks",
}


def front_door(route: str) -> str:
    """``slack``, ``teams``, ``web``, ``webhooks``, ``operations`` or ``other`` for a route."""
    return _DOORS.get(route.lstrip("/").split("/", 1)[0], "other")


def route_of(request: web.Request) -> str:
    """The matched route's pattern (``/webchat/api/send``), or ``(no route)``: never the
    path someone sent, which could be anything."""
    info = request.match_info
    resource = info.route.resource if info is not None and info.route is not None else None
    return resource.canonical if resource is not None else "(no route)"


def http_metrics(metrics: Metrics):
    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        route = route_of(request)
        door = front_door(route)
        started = time.perf_counter()
        status = 500
        with correlation.at_door(door):
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as e:
                status = e.status
                raise
            finally:
                metrics.http_requests.labels(door, route, str(status)).inc()
                metrics.http_seconds.labels(door).observe(time.perf_counter() - started)

    return middleware
