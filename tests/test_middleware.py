"""Cross-cutting rules live in the core's middleware, once for every front door."""

from __future__ import annotations

import logging
import re

from bot.core.correlation import CorrelationFilter


async def test_a_repeated_web_chat_message_is_dropped_once_with_a_correlation_id(
    running, caplog
):
    caplog.handler.addFilter(CorrelationFilter())
    with caplog.at_level(logging.INFO):
        status, first = await running.web_send(text="help", request_id="same-1")
        assert status == 200 and first == {"ok": True}
        status, again = await running.web_send(text="help", request_id="same-1")
    assert status == 200 and again == {"ok": True, "repeat": True}
    # The person's line is shown once, and the bot answered once.
    messages = await running.web_messages()
    assert [m["sender"] for m in messages].count("user") == 1
    repeats = [r for r in caplog.records if "ignoring repeated delivery" in r.getMessage()]
    assert len(repeats) == 1
    assert re.fullmatch(r"[0-9a-f]{16}", repeats[0].correlation_id)


async def test_an_admin_only_command_is_refused_in_its_own_words(running):
    status, _ = await running.web_send(text="deadletters", user="web-user-2")
    assert status == 200
    messages = await running.web_messages(user="web-user-2")
    assert any("Only secbot admins can see deliveries" in m["text"] for m in messages)
