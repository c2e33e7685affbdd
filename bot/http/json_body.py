"""The one way a front door reads a JSON request body: refusals are 4xx, never a crash.

``await request.json()`` trusts too much: it decodes with whatever charset the client
names (an unknown one raises ``LookupError``), and Python's ``json`` recurses once per
level of nesting, so a body of 100,000 ``[`` raises ``RecursionError``. Both became a
500 with a traceback. Here the body is UTF-8 only (RFC 8259), nesting is counted before
parsing, and ``NaN``/``Infinity`` (not JSON, and poison for arithmetic) are refused.
Every refusal is an ``HTTPException`` with a short JSON body, so each endpoint simply
lets it propagate.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from aiohttp import web

# Far deeper than any Slack, Teams or web chat body, far shallower than the recursion
# limit of anything that walks the parsed value afterwards (pydantic, msrest, our code).
MAX_DEPTH = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


_REFUSALS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    415: web.HTTPUnsupportedMediaType,
}


def refusal(status: int, reason: str) -> web.HTTPException:
    """An HTTP error with a short JSON body, in the shape the web chat already uses."""
    body = json.dumps({"ok": False, "error": reason})
    return _REFUSALS[status](text=body, content_type="application/json")


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text``, not counting brackets in strings.

    Runs at C speed (two regex passes and an ``accumulate``): a megabyte of brackets
    costs milliseconds, where walking it character by character in Python would not."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # too few brackets to nest too deeply: the common case, free
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# One decoder for every body: ``json.loads`` with a keyword argument builds a new
# decoder (and its scanner) on each call, which costs about a third of a small body's parse.
_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def parse_json(raw: bytes) -> Any:
    """The parsed value, or an ``HTTPBadRequest`` saying plainly what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise refusal(400, "The request body is not UTF-8 text.") from None
    return parse_json_text(text)


def parse_json_text(text: str) -> Any:
    if nesting_depth(text) > MAX_DEPTH:
        raise refusal(400, f"The JSON is nested too deeply (more than {MAX_DEPTH} levels).")
    try:
        value = _DECODER.decode(text)
    except (ValueError, RecursionError):  # JSONDecodeError, huge integers, NaN
        raise refusal(400, "The request body is not valid JSON.") from None
    if _SURROGATE.search(text) and not _encodable(value):
        # "\ud800" alone is valid JSON but no character: SQLite, and anything else that
        # encodes text as UTF-8, would fail on it far from here.
        raise refusal(400, "The JSON holds an escaped half of a character (\\ud800-\\udfff).")
    return value


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_content_type(request: web.Request) -> None:
    """Refuse a body that is not declared as UTF-8 JSON (415)."""
    if request.content_type != "application/json":
        raise refusal(415, "Send JSON with Content-Type: application/json.")
    charset = (request.charset or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise refusal(415, "Send JSON as UTF-8 (charset=utf-8).")


async def read_json(request: web.Request) -> Any:
    """Check the content type, read the body (aiohttp enforces ``client_max_size``:
    over it is a 413) and parse it safely."""
    json_content_type(request)
    return parse_json(await request.read())


async def read_json_object(request: web.Request) -> dict[str, Any]:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise refusal(400, "The request body must be a JSON object.")
    return data


def fields_shaped(data: dict[str, Any], objects: tuple[str, ...], lists: tuple[str, ...]) -> bool:
    """Whether each of ``objects`` is an object (or null or absent) and each of ``lists`` a
    list of objects: the shape an SDK reads a body with before any check of its own."""
    if not all(data.get(k) is None or isinstance(data[k], dict) for k in objects):
        return False
    return all(
        data.get(k) is None
        or (isinstance(data[k], list) and all(isinstance(i, dict) for i in data[k]))
        for k in lists
    )
