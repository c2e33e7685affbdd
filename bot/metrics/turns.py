"""Every delivery counted and timed by front door and command: a router middleware, so
Slack, Teams and the web chat are measured in the same place."""

from __future__ import annotations

import time

from bot.core import correlation
from bot.core.actions import namespace
from bot.core.turn import Middleware, Next, Turn
from bot.metrics.registry import Metrics


def command_label(turn: Turn) -> str:
    """A bounded name for what the delivery asked for: a registered command's name, an
    action's namespace (``quiz``), ``text``, ``files`` or ``unknown``; never what was typed."""
    route = turn.route
    incoming = turn.incoming
    if incoming.kind == "files":
        return "files"
    if incoming.kind == "action":
        ns = namespace(incoming.action_id or "")
        return f"action:{ns}" if route is not None and route.action is not None else "unknown"
    if route is not None and route.command is not None:
        return route.command.name
    return "text" if incoming.kind == "text" else "unknown"


def turn_metrics(metrics: Metrics) -> Middleware:
    async def measure(turn: Turn, call_next: Next) -> None:
        door = turn.place.platform
        command = command_label(turn)
        started = time.perf_counter()
        outcome = "error"
        with correlation.at_door(door), correlation.incident_scope():
            try:
                await call_next(turn)
                outcome = "repeat" if turn.repeated else "handled"
            finally:
                metrics.turns.labels(door, command, outcome).inc()
                if outcome != "repeat":
                    elapsed = time.perf_counter() - started
                    metrics.turn_seconds.labels(door, command).observe(elapsed)

    return measure
