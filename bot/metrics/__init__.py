"""Prometheus metrics: ``GET /metrics`` (see :mod:`bot.metrics.registry` for what is measured).

One :class:`~bot.metrics.registry.Metrics` per app (tests start many apps in one process,
and prometheus-client's global registry would mix them up). Requests are counted in one
place for every front door: an aiohttp middleware (:mod:`bot.metrics.http`) and a router
middleware (:mod:`bot.metrics.turns`). What the database holds (inbox, dead letters,
pages, escalations, tips) is read from the stores when Prometheus scrapes, so a gauge is
never a stale copy. No metric carries message text, people's names or ids: labels are
front doors, route patterns, command names, providers and statuses only.
"""

from bot.metrics.registry import Metrics

__all__ = ["Metrics"]
