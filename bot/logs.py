"""How log lines look: readable text (the default, for ``make run``) or one JSON object per
line (``SECBOT_LOG_FORMAT=json``) for a log collector.

Both carry the same fields: time, level, logger, the message, the correlation id, the
front door and the incident, the last three from context variables the middleware sets
(:mod:`bot.core.correlation`). Neither adds anything of its own from a request: what is
logged is what the code chose to log, and the code never logs message text or secrets.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from bot.core import correlation

TEXT_FORMAT = correlation.LOG_FORMAT


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, ``correlation_id``, ``front_door`` and ``incident_id`` when known, and
    ``exception`` (its type and traceback) when a line was logged with one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("correlation_id", "front_door", "incident_id"):
            value = getattr(record, field, correlation.NONE)
            if value != correlation.NONE:
                entry[field] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    return logging.Formatter(TEXT_FORMAT)


def configure(log_format: str = "text", *, stream=None) -> None:
    """Log to standard error (or ``stream``) at INFO in ``log_format``: the root logger's
    handlers are replaced, each with the correlation filter on it."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    correlation.install(root)
