"""What of a kept Slack delivery may stay at rest once it no longer waits for an answer.

A kept body holds Slack's legacy verification ``token``, a ``response_url`` (anyone
holding it can post into the conversation for 30 minutes) and a ``trigger_id`` (opens a
modal for the person for a few seconds). None of that is needed to understand or retry
a delivery later, so a body that waits longer than a moment (a failed delivery, a dead
letter) keeps none of it. The ``trigger_id`` is replaced by its digest rather than
dropped, because a delivery's identity (its de-duplication key, and the key its effects
are recorded under) is made from that digest: a scrubbed body is still the same delivery.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlencode

from bot.storage.inbox import RAW

DROPPED = {"token", "response_url", "response_urls", "bot_access_token", "enterprise_token"}
DIGEST = "h:"


def trigger_key(trigger_id: str) -> str:
    """A stable stand-in for a ``trigger_id``: the same before and after scrubbing."""
    if not trigger_id or trigger_id.startswith(DIGEST):
        return trigger_id
    return DIGEST + hashlib.sha256(trigger_id.encode()).hexdigest()[:32]


def _clean(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in DROPPED or key.endswith("_token") or "secret" in key:
                continue
            out[key] = (
                trigger_key(value)
                if key == "trigger_id" and isinstance(value, str)
                else (_clean(value))
            )
        return out
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def scrub(kind: str, payload: str) -> str:
    """The body without its tokens, in the same shape (form or JSON) as it was kept."""
    try:
        if kind != RAW or payload[:1] == "{":
            return json.dumps(_clean(json.loads(payload)))
        form = parse_qs(payload, keep_blank_values=True)
        out: dict[str, str] = {}
        for key, values in form.items():
            value = values[0] if values else ""
            if key in DROPPED or key.endswith("_token"):
                continue
            if key == "trigger_id":
                value = trigger_key(value)
            elif key == "payload":
                value = json.dumps(_clean(json.loads(value)))
            out[key] = value
        return urlencode(out)
    except (ValueError, TypeError, AttributeError):
        return ""  # unreadable: keep nothing rather than something that may hold a token


def describe(kind: str, payload: str) -> str:
    """Which command or button a delivery was, in plain words; never what anyone typed."""
    try:
        if kind == RAW and payload[:1] != "{":
            form = parse_qs(payload, keep_blank_values=True)
            if "command" in form:
                return f"the {form['command'][0]} command"
            body = json.loads(form.get("payload", ["{}"])[0])
        else:
            body = json.loads(payload)
        if kind == "command" or "command" in body:
            return f"the {body.get('command', '')} command"
        if body.get("actions"):
            return f"the {str(body['actions'][0].get('action_id', '')).split('#')[0]} button"
        if body.get("view"):
            return f"the {body['view'].get('callback_id', '')} form"
        if body.get("event"):
            return f"a {body['event'].get('type', '')} event"
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        pass
    return "an unreadable delivery"


def door(kind: str) -> str:
    return "Slack (HTTP)" if kind == RAW else "Slack (Socket Mode)"
