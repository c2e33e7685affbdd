"""The last line of defence around every route: no traceback, no detail, no 500 page.

Hostile input is refused at its source (:mod:`bot.http.json_body` and each front
door's own checks) with a 4xx. Anything that still escapes a handler is a bug of ours:
the caller gets a plain 500 with a correlation id, and the log gets the same id, the
exception's type and where it was raised, never its message (which may hold someone's
text) and never the request body. aiohttp would otherwise log the whole traceback and,
for a body over ``client_max_size``, answer with its own wordy 413.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.core.correlation import correlated

log = logging.getLogger(__name__)


def where(error: BaseException) -> str:
    """``file.py:123 in function`` for the innermost frame: enough to find the bug."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown place"
    frame = frames[-1]
    return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"


def _route(request: web.Request) -> str:
    """The route's pattern (``/webchat/api/send``), not the raw path someone sent."""
    info = request.match_info
    resource = info.route.resource if info is not None and info.route is not None else None
    return resource.canonical if resource is not None else "(no route)"


def too_large(request: web.Request) -> web.Response:
    limit = request.client_max_size
    return web.json_response(
        {"ok": False, "error": f"The request body is too large: send at most {limit:,} bytes."},
        status=413,
    )


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Each request runs under a correlation id (in every log line it causes), and a 500
    names the same id."""
    with correlated() as correlation_id:
        return await _answer(request, handler, correlation_id)


async def _answer(request: web.Request, handler, correlation_id: str) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return too_large(request)
    except web.HTTPException:
        raise  # a deliberate answer (404, 405, a refusal): aiohttp sends it as it is
    except ConnectionError:
        # The client went away mid-request: nobody is there to answer, nothing is wrong.
        log.info("a client disconnected during %s %s", request.method, _route(request))
        return web.Response(status=400)
    except Exception as e:
        log.error(
            "unexpected error %s in %s %s: %s at %s",
            correlation_id,
            request.method,
            _route(request),
            type(e).__name__,
            where(e),
        )
        return web.json_response(
            {
                "ok": False,
                "error": "Something went wrong on our side. Please try again in a moment.",
                "correlation_id": correlation_id,
            },
            status=500,
            headers={"X-Correlation-Id": correlation_id},
        )


class _MalformedRequests(logging.Filter):
    """aiohttp's own parser refuses a malformed request (a header line over 8 KB, a bad
    request line) with a 400 before any route sees it, then logs the refusal as an
    ERROR with a traceback. It is the client's fault, not ours: one INFO line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError) and 400 <= (error.code or 400) < 500:
            record.msg, record.args = "refused a malformed HTTP request (%s)", (
                type(error).__name__,
            )
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def quiet_malformed_requests() -> None:
    """Install the filter on aiohttp's server logger (once per process)."""
    logger = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _MalformedRequests) for f in logger.filters):
        logger.addFilter(_MalformedRequests())
