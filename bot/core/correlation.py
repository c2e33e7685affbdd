"""A correlation id carried into every log line.

Each incoming delivery (the router's outermost middleware), each HTTP request (the error
middleware) and each round of a background worker (:mod:`bot.workers`) gets a short id
in a context variable; :class:`CorrelationFilter`, installed on the log handlers at start,
writes it into every record as ``%(correlation_id)s``. So the lines one request or one
job wrote can be found together, and a 500's id is the one in the log.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

NONE = "-"
_current: ContextVar[str] = ContextVar("secbot_correlation_id", default=NONE)
# The front door (slack, teams, web, operations) and the incident a log line belongs to,
# set by the metrics middleware and by the incident desk when it finds an incident.
_door: ContextVar[str] = ContextVar("secbot_front_door", default=NONE)
_incident: ContextVar[str] = ContextVar("secbot_incident_id", default=NONE)


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def current() -> str:
    """The id of the request, delivery or job running now (``-`` outside any)."""
    return _current.get()


@contextlib.contextmanager
def correlated(correlation_id: str | None = None) -> Iterator[str]:
    """Run the block under ``correlation_id`` (a new one by default)."""
    cid = correlation_id or new_id()
    token = _current.set(cid)
    try:
        yield cid
    finally:
        _current.reset(token)


@contextlib.contextmanager
def at_door(door: str) -> Iterator[None]:
    """Log lines in the block say which front door the work came in by."""
    token = _door.set(door)
    try:
        yield
    finally:
        _door.reset(token)


@contextlib.contextmanager
def incident_scope() -> Iterator[None]:
    """An incident named inside the block (:func:`about_incident`) is forgotten after it."""
    token = _incident.set(NONE)
    try:
        yield
    finally:
        _incident.reset(token)


def about_incident(incident_id: str | int) -> None:
    """The rest of this delivery's log lines name the incident (an id, never a title)."""
    _incident.set(str(incident_id))


class CorrelationFilter(logging.Filter):
    """Adds ``correlation_id``, ``front_door`` and ``incident_id`` to every record that
    passes the handler it is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = _current.get()
        if not hasattr(record, "front_door"):
            record.front_door = _door.get()
        if not hasattr(record, "incident_id"):
            record.incident_id = _incident.get()
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"


def install(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of ``logger`` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, CorrelationFilter) for f in handler.filters):
            handler.addFilter(CorrelationFilter())
