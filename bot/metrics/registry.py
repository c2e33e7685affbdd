"""The metrics of one app, on its own :class:`prometheus_client.CollectorRegistry`."""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import generate_latest

from bot import __version__

log = logging.getLogger(__name__)

# Seconds: from a fast web chat send to a slow Slack handler that pages someone.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

# Read the stores when scraped: ``async def source(now)`` sets its gauges.
Source = Callable[[datetime], Awaitable[None]]


class Metrics:
    """Counters the request paths update, and gauges the sources set at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._sources: list[tuple[str, Source]] = []
        r = self.registry
        self.http_requests = Counter(
            "secbot_http_requests", "HTTP requests answered, by front door, route and status.",
            ["front_door", "route", "status"], registry=r,
        )  # fmt: skip
        self.http_seconds = Histogram(
            "secbot_http_request_seconds", "Time to answer an HTTP request, by front door.",
            ["front_door"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.turns = Counter(
            "secbot_turns", "Deliveries routed (commands, button clicks, messages), by front"
            " door, command and outcome (handled, repeat, error).",
            ["front_door", "command", "outcome"], registry=r,
        )  # fmt: skip
        self.turn_seconds = Histogram(
            "secbot_turn_seconds", "Time to handle a delivery, by front door and command.",
            ["front_door", "command"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.scrape_errors = Counter(
            "secbot_metrics_source_errors", "Scrape-time readings that failed, by source.",
            ["source"], registry=r,
        )  # fmt: skip
        build = Info("secbot_build", "The running secbot's version.", registry=r)
        build.info({"version": __version__, "python": platform.python_version()})

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
        """A gauge on this app's registry (for a source to set)."""
        return Gauge(name, doc, list(labels), registry=self.registry)

    def add_source(self, name: str, source: Source) -> None:
        """Run ``source`` at every scrape, before the text is written."""
        self._sources.append((name, source))

    async def render(self, now: datetime) -> bytes:
        """The exposition text: every source read afresh, a failing one counted and
        skipped (its gauges keep their last values) so one broken store never hides the
        rest."""
        for name, source in self._sources:
            try:
                await source(now)
            except Exception as e:  # noqa: BLE001 - a scrape must still answer
                self.scrape_errors.labels(name).inc()
                log.warning("metrics: reading %s failed (%s)", name, type(e).__name__)
        return generate_latest(self.registry)


def timer() -> float:
    return time.perf_counter()
