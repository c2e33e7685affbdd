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


class CorrelationFilter(logging.Filter):
    """Adds ``correlation_id`` to every record that passes the handler it is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = _current.get()
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"


def install(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of ``logger`` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, CorrelationFilter) for f in handler.filters):
            handler.addFilter(CorrelationFilter())
