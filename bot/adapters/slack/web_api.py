"""``chat.postMessage`` for the daily-tip fan-out: one message to thousands of channels.

``AsyncWebClient.chat_postMessage`` spends about as much CPU per call as the HTTP request
itself: it re-converts the blocks, rebuilds the arguments, URL and headers, JSON-encodes the
whole message and wraps the answer in an ``AsyncSlackResponse``. Profiling the fan-out put
that at a fifth of its time. Here the message is rendered (``bot/render/slack.py``) and
serialised once per message object, each post only splices its channel in front, and the
request goes over the client's own pooled session with the headers slack_sdk would send
(``Authorization: Bearer``, ``Content-Type: application/json;charset=utf-8``, its
User-Agent).

Only a plain success (HTTP 200, ``"ok": true``) takes the short way out. Anything else is
handled as ``slack_sdk.web.async_internal_utils._request_with_session`` and
``AsyncSlackResponse.validate`` do: the client's retry handlers are asked (429 with
Retry-After, connection errors), and a failure raises the same ``SlackApiError``, so
callers map it to ``DeliveryFailed`` exactly as before. slack_sdk's built-in handlers never
retry a success, so skipping them for one changes nothing.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any
from urllib.parse import urljoin

import aiohttp
from aiohttp.payload import BytesPayload
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters.slack.history import EVENT_TYPE
from bot.core.model import Message, Place
from bot.render.slack import render

# Messages whose bodies are kept, least recently posted dropped first. A fan-out posts one
# message per tip, so this must hold every tip with room to spare: at 256, with 262 tips,
# the cache emptied itself over and over and most posts rendered their tip again.
CACHED_MESSAGES = 1024
JSON = "application/json;charset=utf-8"
_NO_EXTRA: dict[str, Any] = {}


class MessageBodies:
    """``chat.postMessage`` JSON bodies: each message rendered and serialised once.

    Keyed by the message object (kept alive by the entry, so its id cannot be reused);
    ``Message`` is a frozen value, so a cached body never goes stale. ``renders`` counts
    the messages rendered (tests and profiling: a fan-out renders each tip once)."""

    def __init__(self, size: int = CACHED_MESSAGES):
        self.size = size
        self.renders = 0
        self._bodies: OrderedDict[int, tuple[Message, bytes]] = OrderedDict()

    def body(self, place: Place, msg: Message, key: str | None = None) -> bytes:
        bodies = self._bodies
        entry = bodies.get(id(msg))
        if entry is None or entry[0] is not msg:
            rendered = json.dumps(render(msg)).encode()  # '{"text": ..., "blocks": [...]}'
            entry = (msg, b"}" if rendered == b"{}" else b", " + rendered[1:])
            bodies[id(msg)] = entry
            self.renders += 1
            if len(bodies) > self.size:
                bodies.popitem(last=False)
        bodies.move_to_end(id(msg))
        # Exactly json.dumps({"channel": ..., "thread_ts": ..., "metadata": ...,
        # **rendered}), but only the channel (and the key) is encoded per post.
        head = b'{"channel": ' + _string(place.channel)
        if place.thread:
            head += b', "thread_ts": ' + _string(place.thread)
        if key is not None:  # bot/adapters/slack/history.py: the key as message metadata
            head += _METADATA_HEAD + _string(key) + b"}}"
        return head + entry[1]


_METADATA_HEAD = b', "metadata": {"event_type": ' + json.dumps(EVENT_TYPE).encode() + (
    b', "event_payload": {"key": '
)


def _string(text: str) -> bytes:
    return encode_basestring_ascii(text).encode()


class ChatPoster:
    """``SlackTransport.post``'s short path."""

    def __init__(self, client: AsyncWebClient):
        self.client = client
        self.bodies = MessageBodies()
        self._url: tuple[str, str] = ("", "")  # (base URL, its chat.postMessage URL)
        self._headers: tuple[object, dict[str, str]] | None = None

    def usable(self) -> bool:
        """An open pooled session and a bot token, and no client-wide default parameters
        (which slack_sdk would merge into every body); otherwise use chat_postMessage."""
        client = self.client
        session = client.session
        return (
            session is not None
            and not session.closed
            and bool(client.token)
            and not client.default_params
        )

    def url(self) -> str:
        base = self.client.base_url
        if base != self._url[0]:
            self._url = (base, urljoin(base, "chat.postMessage"))
        return self._url[1]

    def headers(self) -> dict[str, str]:
        """The headers slack_sdk sends with a JSON body, worked out again only when the
        client's token or headers change."""
        client = self.client
        key = (client.token, tuple(client.headers.items()))
        if self._headers is None or self._headers[0] != key:
            # What slack_sdk sends with a JSON body: its User-Agent and any client-wide
            # headers (both in client.headers), the bearer token and the JSON type.
            headers = {"Authorization": f"Bearer {client.token}", **client.headers}
            headers["Content-Type"] = JSON
            self._headers = (key, headers)
        return self._headers[1]

    async def post(self, place: Place, msg: Message, key: str | None = None) -> dict[str, Any]:
        """POST the message to the channel (with ``key`` as its metadata); returns Slack's
        answer (``ts`` etc.).

        Raises ``SlackApiError`` (or the connection error) as ``chat_postMessage`` would,
        after the client's retry handlers have had their say; except that a post with a
        key whose connection broke after the request may have gone out
        (:func:`may_have_arrived`) is not tried again (slack_sdk's handler would post it
        a second time): it raises, and the caller looks for the post by its key."""
        client = self.client
        session = client.session
        assert session is not None
        body = self.bodies.body(place, msg, key)
        url = self.url()
        headers = self.headers()
        extra: dict[str, Any] = _NO_EXTRA
        if client.ssl is not None or client.proxy:
            extra = {"ssl": client.ssl} if client.ssl is not None else {}
            if client.proxy:
                extra["proxy"] = client.proxy
        state: RetryState | None = None
        request: HttpRequest | None = None
        while True:
            response: HttpResponse | None = None
            if state is not None:
                state.next_attempt_requested = False
            try:
                # A ready-made payload skips aiohttp's per-request payload type lookup.
                payload = BytesPayload(body, content_type=JSON)
                async with session.post(url, data=payload, headers=headers, **extra) as res:
                    if res.status == 200 and res.content_type == "application/json":
                        try:  # decoding first spares json.loads its encoding sniffing
                            quick = json.loads((await res.read()).decode(res.charset or "utf-8"))
                        except ValueError:
                            quick = None
                        if type(quick) is dict and quick.get("ok"):
                            return quick
                    data, response = await _read(res)
                    status, res_headers = res.status, res.headers
                    if key is not None and (status == 429 or status >= 500):
                        # A keyed post (a tip) must finish inside its lease: a 429 goes
                        # back as a refusal with its Retry-After (the fan-out pauses the
                        # workspace and tries later) rather than waiting here; a 5xx may
                        # have posted it, so it is looked for by its key, not sent again.
                        break
                    if state is None or request is None:
                        state, request = RetryState(), _request(url, headers)
                    if not await _retried(client, state, request, response):
                        break
            except Exception as e:
                if key is not None and may_have_arrived(e):
                    raise  # not sent blindly again: the caller looks for it by its key
                if state is None or request is None:
                    state, request = RetryState(), _request(url, headers)
                if not await _retried(client, state, request, response, e):
                    raise
        resp = AsyncSlackResponse(
            client=client,
            http_verb="POST",
            api_url=url,
            req_args={"headers": dict(headers), "data": body},
            data=data,  # type: ignore[arg-type]
            headers=res_headers,  # type: ignore[arg-type]
            status_code=status,
        )
        return resp.validate().data  # type: ignore[return-value]


def may_have_posted(error: SlackApiError) -> bool:
    """Slack's answer leaves it open whether the message was posted: a server error
    (5xx), or ``fatal_error`` / ``internal_error``, which Slack documents may have partly
    succeeded."""
    response = error.response
    if response is None:
        return False
    code = str(response.get("error", "")) if isinstance(response.data, dict) else ""
    return response.status_code >= 500 or code in ("fatal_error", "internal_error")


def may_have_arrived(error: BaseException) -> bool:
    """A connection error after which Slack may have the post (the connection dropped or
    was reset once the request could have gone out), as opposed to one where nothing left
    (no connection was made)."""
    return isinstance(error, aiohttp.ClientError) and not isinstance(
        error, aiohttp.ClientConnectorError
    )


def _request(url: str, headers: dict[str, str]) -> HttpRequest:
    # As slack_sdk describes a JSON request to its handlers: no form data or params.
    return HttpRequest(method="POST", url=url, headers=dict(headers), body_params=None, data=None)


async def _read(res: aiohttp.ClientResponse) -> tuple[Any, HttpResponse]:
    """The answer's data, read as slack_sdk reads it (by content type)."""
    headers: Any = res.headers
    if res.content_type == "application/gzip":
        raw = await res.read()
        return raw, HttpResponse(status_code=res.status, headers=headers, data=raw)
    if res.content_type == "text/plain":
        text = await res.text()
        return text, HttpResponse(status_code=res.status, headers=headers, data=text)  # type: ignore[arg-type]
    try:
        data = await res.json()
    except aiohttp.ContentTypeError:
        return {}, HttpResponse(status_code=res.status, headers=headers)
    except json.JSONDecodeError:
        try:
            text = await res.text()
            message = _unexpected_body(text)
        except Exception as e:
            raise SlackApiError(
                f"Unexpectedly failed to read the response body: {e}", res
            ) from None
        raise SlackApiError(message, res) from None
    return data, HttpResponse(status_code=res.status, headers=headers, body=data)


def _unexpected_body(body: str) -> str:
    """The error slack_sdk raises for a body that is not JSON: its first 100 characters."""
    flat = "".join(line.strip() for line in body.replace("\r", "\n").split("\n"))
    return "Received a response in a non-JSON format: " + (
        flat[:100] + "..." if len(flat) > 100 else flat
    )


async def _retried(
    client: AsyncWebClient,
    state: RetryState,
    request: HttpRequest,
    response: HttpResponse | None,
    error: Exception | None = None,
) -> bool:
    """Ask the client's retry handlers, first match wins; True if one asked for another
    attempt (it has already waited, e.g. for Retry-After)."""
    for handler in client.retry_handlers:
        if await handler.can_retry_async(
            state=state, request=request, response=response, error=error
        ):
            await handler.prepare_for_next_attempt_async(
                state=state, request=request, response=response, error=error
            )
            break
    return state.next_attempt_requested
