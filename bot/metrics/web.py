"""``GET /metrics``: on the main port, or alone on ``SECBOT_METRICS_PORT``.

A separate port keeps the metrics off the address Slack, Teams and people reach: a
firewall or a Kubernetes network policy can then let only Prometheus in. The figures say
which teams have accounts with weak 2FA and an incident open right now, so a network
position is not relied on: with ``SECBOT_METRICS_TOKEN`` set, only a request carrying it
as a bearer token reads them, on either port.
"""

from __future__ import annotations

import errno
import hmac
import os

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.core.clock import Clock
from bot.metrics.registry import Metrics
from bot.settings import ConfigError

METRICS = web.AppKey("metrics", Metrics)


def metrics_handler(metrics: Metrics, clock: Clock, token: str | None = None):
    expected = f"Bearer {token}".encode() if token else None

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").strip().encode("utf-8", "replace")
        if expected is not None and not hmac.compare_digest(given, expected):
            # Never the token, nor what was sent: only that a scrape was refused.
            return web.Response(
                status=401,
                text="Send the metrics token as Authorization: Bearer <token>.\n",
                headers={"WWW-Authenticate": 'Bearer realm="secbot metrics"'},
            )
        body = await metrics.render(clock.now())
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return handle


async def start_metrics_site(handler, host: str, port: int) -> web.AppRunner:
    """A small app serving only ``/metrics`` on ``port``, or one :class:`ConfigError`
    line when the port can't be used (taken, or not ours to bind)."""
    app = web.Application()
    app.router.add_get("/metrics", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as e:
        await runner.cleanup()
        reason = os.strerror(e.errno) if e.errno else (e.strerror or str(e))
        hint = "another program is listening there" if e.errno == errno.EADDRINUSE else reason
        raise ConfigError(
            f"SECBOT_METRICS_PORT {port} on HOST {host} can't be used ({hint}):"
            " set it to a free port, or unset it to serve /metrics on PORT"
        ) from None
    return runner
