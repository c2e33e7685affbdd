"""Hostile input gets a 4xx on every endpoint, never a 500 or a traceback in the log.

Each case is sent to every endpoint it applies to (tests/endpoints.py), over HTTP to
the real app. The generated cases are in test_fuzz_endpoints.py; these are the named
classes of fault, each of which was a 500 before.
"""

from __future__ import annotations

import json
import logging

import pytest
from aiohttp import web

from app import create_app
from bot.settings import load_settings
from tests.endpoints import (
    BODY_ENDPOINTS,
    ENDPOINTS,
    JSON_ENDPOINTS,
    QUERY,
    SLACK,
    Endpoint,
    Request,
    send,
    signed_in,
)
from tests.support import eventually, kept_slack, sign_slack

NESTED = b"[" * 100_000 + b"]" * 100_000


def _post(endpoint: Endpoint, body: bytes, content_type: str, bot) -> Request:
    headers = [("Content-Type", content_type), *endpoint.headers(bot).items()]
    if endpoint.body == SLACK:
        # Signed as Slack signs, so the door's parsing is reached, not just its check.
        text = body.decode("utf-8", errors="surrogateescape")
        try:
            headers += list(sign_slack(text).items())
        except UnicodeEncodeError:
            pass  # not UTF-8: Slack can't have signed it, and the door says so (401)
    if endpoint.sign is not None:
        # Signed as the paging tool signs, so the parsing behind the check is reached.
        headers += list(endpoint.sign(body).items())
    return Request(endpoint.method, endpoint.path, headers=tuple(headers), body=body)


def _quiet(caplog) -> None:
    """Nothing reached the error middleware and nothing logged a traceback."""
    loud = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not loud, [(r.name, r.getMessage()) for r in loud]


async def _healthy(running) -> None:
    async with running.session.get(running.url + "healthz") as r:
        assert r.status == 200
    status, data = await running.web_send(text="help")
    assert status == 200 and data["ok"] is True


def _ids(endpoints):
    return [e.name for e in endpoints]


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=_ids(BODY_ENDPOINTS))
async def test_deeply_nested_json_is_a_400(running, caplog, endpoint):
    """100,000 '[' made Python's json raise RecursionError: a 500 and a traceback."""
    body = b'{"type": "url_verification", "x": ' + NESTED + b"}"
    status, text = await send(running, _post(endpoint, body, "application/json", running))
    assert status == 400, text
    assert "nested too deeply" in text
    _quiet(caplog)
    await _healthy(running)


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=_ids(BODY_ENDPOINTS))
async def test_a_body_over_the_limit_is_a_short_413(running, caplog, endpoint):
    body = b'{"text": "' + b"a" * (1024 * 1024) + b'"}'
    req = _post(endpoint, body, "application/json", running)
    status, text = await send(running, req)
    assert status == 413
    assert json.loads(text) == {
        "ok": False,
        "error": "The request body is too large: send at most 1,048,576 bytes.",
    }
    _quiet(caplog)


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=_ids(BODY_ENDPOINTS))
@pytest.mark.parametrize(
    ("case", "body", "content_type"),
    [
        ("not UTF-8", b'{"text": "caf\xe9 \xff\xfe"}', "application/json"),
        ("an unknown charset", b'{"text": "hi"}', "application/json; charset=x-no-such"),
        ("a lone surrogate", b'{"text": "\\ud800", "type": "message"}', "application/json"),
        ("NaN", b'{"text": NaN, "value": Infinity}', "application/json"),
        ("a 5,000-digit number", b'{"after": ' + b"9" * 5000 + b"}", "application/json"),
        ("invalid JSON", b'{"text": "hi",,}', "application/json"),
        ("a JSON list", b"[1, 2, 3]", "application/json"),
        ("a JSON string", b'"message"', "application/json"),
        ("form data", b"text=hi&user_id=U1", "application/x-www-form-urlencoded"),
        ("plain text", b"hello", "text/plain"),
        ("no content type", b'{"text": "hi"}', ""),
        ("an empty body", b"", "application/json"),
    ],
)
async def test_bad_bodies_get_a_4xx(running, caplog, endpoint, case, body, content_type):
    status, text = await send(running, _post(endpoint, body, content_type, running))
    assert 400 <= status < 500, (case, status, text)
    _quiet(caplog)


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS, ids=_ids(JSON_ENDPOINTS))
@pytest.mark.parametrize(
    ("case", "body", "status"),
    [
        ("an unknown charset", b"{}", 415),
        ("not UTF-8", b'{"a": "\xff"}', 400),
        ("a lone surrogate", b'{"a": "\\udc00"}', 400),
        ("NaN", b'{"a": NaN}', 400),
    ],
)
async def test_json_refusals_say_what_is_wrong(running, endpoint, case, body, status):
    content_type = "application/json; charset=x-no-such" if status == 415 else "application/json"
    got, text = await send(running, _post(endpoint, body, content_type, running))
    assert got == status, (case, text)
    assert json.loads(text)["error"]


async def test_web_chat_send_of_the_wrong_shape(running, caplog):
    base = {"user_id": "u1", "conversation": "general", "request_id": "r1"}
    cases = [
        {**base, "action": {"action_id": "quiz:answer", "message_id": "²"}},
        {**base, "action": {"action_id": "quiz:answer", "message_id": "9" * 40}},
        {**base, "user_id": "u1\n"},
        {**base, "action": {"action_id": ["x"], "form": {"a": {"b": [1]}}}},
        {**base, "text": {"nested": ["text"]}},
    ]
    for i, body in enumerate(cases):
        body = {**body, "request_id": f"shape-{i}"}
        status, data = await send(
            running,
            Request(
                "POST",
                "/webchat/api/send",
                headers=(("Content-Type", "application/json"), *signed_in(running).items()),
                body=json.dumps(body).encode(),
            ),
        )
        assert status < 500, (body, data)
    _quiet(caplog)


@pytest.mark.parametrize(
    "query",
    [
        "user_id=u1&conversation=general&after=" + "9" * 40,
        "user_id=u1&conversation=general&after=%C2%B2",
        "user_id=u1&conversation=general&after=-1",
        "user_id=u1&conversation=general%0A",
        "user_id=%ff%fe&conversation=%00",
        "user_id=u1&user_id=u2&conversation=general&after=1e9",
        "%%%&&&===;;",
        "a=" + "b" * 6000,
    ],
)
async def test_odd_query_strings_get_a_4xx(running, caplog, query):
    endpoint = next(e for e in ENDPOINTS if e.body == QUERY)
    headers = tuple(endpoint.headers(running).items())
    status, text = await send(running, Request("GET", endpoint.path, query, headers))
    assert 400 <= status < 500, (query, status, text)
    _quiet(caplog)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_ids(ENDPOINTS))
async def test_huge_headers_and_wrong_methods_get_a_4xx(running, caplog, endpoint):
    status, _ = await send(
        running, Request(endpoint.method, endpoint.path, headers=(("X-Junk", "j" * 20_000),))
    )
    assert 400 <= status < 500
    many = tuple((f"X-H{i}", "v") for i in range(200))
    status, _ = await send(running, Request(endpoint.method, endpoint.path, headers=many))
    assert status < 500
    wrong = "PUT" if endpoint.method == "POST" else "DELETE"
    status, _ = await send(running, Request(wrong, endpoint.path, body=b"{}"))
    assert status == 405
    _quiet(caplog)
    await _healthy(running)


async def test_signed_slack_bodies_of_the_wrong_shape_are_dropped_quietly(running, caplog):
    """A body with a valid signature but junk inside is acknowledged (Slack only needs to
    know it was received) and dropped by the intake with one line, not a traceback."""
    bodies = [
        "payload=" + "%5B" * 100 + "%5D" * 100,
        "payload=%7B%22type%22%3A+%22block_actions%22%7D",
        "payload=%7B%22type%22%3A+%22block_actions%22%2C+%22actions%22%3A+%5B1%5D%7D",
        "payload=not+json",
        "command=%2Fhelp&user_id=&channel_id=",
        "command=%2Fhelp",
        '{"type": "event_callback", "event": {"type": "app_mention", "text": ["x"]}}',
        '{"type": "event_callback", "event": "nope"}',
        # No channel to answer in (Slack always names one): an incident started here
        # could not be read back.
        '{"type": "event_callback", "team_id": "T1", "event_id": "Ev-no-channel", "event":'
        ' {"type": "message", "channel_type": "im", "channel": "", "user": "U1",'
        ' "text": "compromised"}}',
        "command=%2Fcompromised&user_id=U1&team_id=T1&channel_id=&text=",
    ]
    for body in bodies:
        kind = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
        r = await running.slack_post(body, content_type=kind)
        assert r.status < 500, body
    await running.slash("/help")
    await _wait_for_slack_reply(running)
    await eventually(lambda: not kept_slack(running.settings.db_path))  # all handled
    _quiet(caplog)


async def _wait_for_slack_reply(running) -> None:
    await eventually(
        lambda: running.slack.responses() or running.slack.api_calls("chat.postEphemeral")
    )


async def test_an_unexpected_error_is_a_plain_500_logged_with_an_id_only(tmp_path, caplog):
    """The error middleware: what escapes a handler is a bug of ours. The caller gets no
    detail; the log gets a correlation id, the type and the place, not the message."""
    from tests.support import RunningBot, stop_bot

    settings = load_settings({"SECBOT_DB": str(tmp_path / "e.db")}, env_file=None)
    app = create_app(settings, features=[], content=False)

    async def boom(request: web.Request) -> web.Response:
        raise KeyError("secret text from someone's message")

    app.router.add_get("/boom", boom)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    import aiohttp

    bot = RunningBot(app, runner, f"http://127.0.0.1:{port}/", aiohttp.ClientSession(), settings)
    try:
        with caplog.at_level(logging.INFO):
            status, text = await send(bot, Request("GET", "/boom"))
        assert status == 500
        data = json.loads(text)
        assert data["ok"] is False and "secret" not in text and "KeyError" not in text
        cid = data["correlation_id"]
        logged = [r for r in caplog.records if cid in r.getMessage()]
        assert len(logged) == 1
        line = logged[0].getMessage()
        assert "KeyError" in line and "GET /boom" in line and "test_hostile_input.py" in line
        assert "secret" not in line and logged[0].exc_info is None
        assert not any("secret" in r.getMessage() or r.exc_info for r in caplog.records)
    finally:
        await stop_bot(bot)


async def test_every_route_is_in_the_table(running):
    """A new route joins tests/endpoints.py, so hostile input and the fuzzer reach it."""
    served = {
        (route.method, route.resource.canonical)
        for route in running.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    listed = {(e.method, e.path) for e in ENDPOINTS}
    assert served - listed == set(), "add these routes to tests/endpoints.py"
