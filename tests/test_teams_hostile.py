"""Hostile bodies at the Teams door get a 4xx, never a 500 or a traceback in the log.

Before the token is checked, only the JSON envelope is looked at; after it, odd shapes
in the free-form fields (value, channelData, entities) must not end the turn in an error.
"""

from __future__ import annotations

import logging

import pytest

from tests.support import teams_activity, teams_invoke


def _no_errors_logged(caplog) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert bad == [], [r.getMessage() for r in bad]


async def _post(running, data: bytes, headers: dict | None = None) -> int:
    h = {"Content-Type": "application/json", **(headers or {})}
    async with running.session.post(running.url + "api/messages", data=data, headers=h) as r:
        await r.read()
        return r.status


def _deep(levels: int) -> bytes:
    return b'{"type":"message","value":' + b"[" * levels + b"]" * levels + b"}"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deeply-nested-array"),
        pytest.param(_deep(100_000), id="deeply-nested-value"),
        pytest.param(_deep(100), id="nested-past-the-limit"),
        pytest.param(b'{"type":"message","text":"\xff\xfe"}', id="not-utf-8"),
        pytest.param(b"\xef\xbb\xbf{}", id="byte-order-mark"),
        pytest.param(b"", id="empty"),
        pytest.param(b"null", id="null"),
        pytest.param(b'"message"', id="a-string"),
        pytest.param(b'{"type": 5, "serviceUrl": "http://x/", "conversation": {"id": "c"}}'),
        pytest.param(b'{"type": "message", "serviceUrl": ["x"], "conversation": {"id": "c"}}'),
        pytest.param(b'{"type": "message", "serviceUrl": "http://x/", "conversation": "c"}'),
        pytest.param(b'{"type": "message", "serviceUrl": "http://x/", "conversation": {"id": 1}}'),
        pytest.param(
            b'{"type":"message","serviceUrl":"http://x/","conversation":{"id":"c"},"channelId":7}'
        ),
    ],
)
async def test_a_malformed_body_is_400_before_any_token_check(running, body, caplog):
    assert await _post(running, body) == 400
    _no_errors_logged(caplog)


async def test_a_huge_body_is_413(running, caplog):
    assert await _post(running, b'{"text": "' + b"x" * (2 * 1024 * 1024) + b'"}') == 413
    _no_errors_logged(caplog)


async def test_a_deep_value_is_400_even_with_a_valid_token(running, fake_connector, caplog):
    act = teams_activity("help", service_url=fake_connector.url, personal=True)
    nested: dict = {}
    for _ in range(80):
        nested = {"a": nested}
    act["value"] = nested
    status, body = await running.teams(act)
    assert status == 400 and "nested too deeply" in body["error"]
    assert fake_connector.calls == []
    _no_errors_logged(caplog)


ODD_FIELDS = [
    ("entities", [{"type": "mention", "mentioned": 3}]),
    ("entities", [{"type": "mention", "text": 5, "mentioned": {"id": "28:bot-id"}}]),
    ("value", {"action_id": ["x"]}),
    ("value", {"action_id": "quiz:x", "input": ["a"]}),
    ("value", {"action": 3}),
    ("value", {"action": {"verb": 5}}),
    ("value", {"action": {"verb": "quiz:x", "data": 3}}),
    ("channelData", 3),
    ("channelData", {"tenant": 3}),
    ("channelData", {"team": "x", "tenant": {"id": ["t"]}}),
    ("from", 3),
    ("attachments", {"a": 1}),
    ("timestamp", "not a date"),
    ("membersAdded", "x"),
]


@pytest.mark.parametrize("kind", ["message", "invoke", "conversationUpdate"])
async def test_odd_fields_in_an_authenticated_activity_never_fail_the_turn(
    running, fake_connector, kind, caplog
):
    for field, odd in ODD_FIELDS:
        if kind == "invoke":
            act = teams_invoke("quiz:answer", "x", service_url=fake_connector.url)
        else:
            act = teams_activity(
                "help", service_url=fake_connector.url, personal=True, activity_type=kind
            )
        act[field] = odd
        status, _ = await running.teams(act)
        assert status in (200, 201, 202, 400), (field, odd, status)
    _no_errors_logged(caplog)
    status, _ = await running.teams_say("help", personal=True, conversation="a:after")
    assert status == 202
    async with running.session.get(running.url + "healthz") as r:
        assert r.status == 200
