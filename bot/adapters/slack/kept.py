"""What the Slack consumer does with one kept delivery, apart from the consumer itself
(``intake.py``): the names it passes to bolt's listeners in the request context, reading
a kept body far enough to know its conversation and delivery id (``plan``), and handing
it to bolt or straight to the core (``dispatch``)."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.door import form_fields
from bot.adapters.slack.translate import TRANSLATORS, UNREADABLE
from bot.core import DeliveryFailed
from bot.storage.inbox import RAW, Kept

if TYPE_CHECKING:
    from slack_bolt.app.async_app import AsyncApp

    from bot.adapters.slack.translate import Translated
    from bot.core import Bot


class Consumer(Protocol):
    """What ``dispatch`` needs of the consumer (``intake.SlackIntake``)."""

    app: AsyncApp
    bot: Bot

    def translate(self, kind: str, body: dict, received: datetime | None = None) -> Translated: ...

log = logging.getLogger(__name__)

# Where the consumer tells a listener which kept row a dispatch is for.
ENTRY = "secbot_inbox_entry"
REPLAY = "secbot_replay"
RECEIVED = "secbot_received"  # when the front door kept it (how fresh its trigger_id is)
CLAIMED = "secbot_claimed"  # the consumer claimed the delivery's id already
# The consumer's record of what the listeners did. Bolt copies the context dict it is
# given, so the listeners write into this shared object, not into the context itself.
OUTCOME = "secbot_outcome"
REACHED = "reached"  # a listener got the delivery
HANDLED = "handled"  # ... and finished with it
FAILED = "error:"  # ... and failed with this class of error (``FAILED + "SlackApiError"``)
# Interaction payloads by type: the kind of kept delivery each is (as app.py routes them).
_INTERACTIONS = {
    "block_actions": "action",
    "view_submission": "view",
    "view_closed": "view",
    "message_action": "shortcut",
}
# What a dispatch did with a kept delivery.
DONE, RETRY, KEEP = "done", "retry", "keep"
FORM = "application/x-www-form-urlencoded"


def error_class(e: BaseException) -> str:
    """What went wrong, for the log and the dead letters: the exception's class and, for a
    platform error, the platform's error code. Never the message, which may quote text."""
    name = type(e).__name__
    code = None
    if isinstance(e, SlackApiError) and e.response is not None:
        code = e.response.get("error")
    elif isinstance(e, DeliveryFailed):
        code = e.reason
    if isinstance(code, str) and re.fullmatch(r"[a-z0-9_.:-]{1,60}", code):
        return f"{name} ({code})"
    return name


def plan(row: Kept, client: Any) -> tuple[Kept, bool, str | None, str | None]:
    """What the consumer needs to know of a kept row before handling it: whether it is
    a replay (an instance claimed it before and died, or stopped, with it in hand, or
    it was tried before: part of its effect may be done), its delivery id and its
    conversation (None when the body can't be read here; bolt then decides)."""
    replay = row.claims > 1 or row.attempts > 0
    incoming = peek(row.kind, row.payload, client)
    if incoming is None:
        return row, replay, None, None
    place = incoming.place
    lane = f"{place.platform}:{place.workspace}:{place.channel}"
    return row, replay, incoming.delivery_id or None, lane


def peek(kind: str, payload: str, client: Any):
    """The neutral delivery a kept row holds, without handling it (None if unreadable)."""
    try:
        if kind == RAW:
            if payload[:1] == "{":
                body = json.loads(payload)
                event = body.get("event") or {}
                kind = "files" if event.get("subtype") == "file_share" else "event"
            else:
                form = form_fields(payload)
                if "payload" in form:
                    body = json.loads(form["payload"][0])
                    kind = _INTERACTIONS.get(body.get("type"), "")
                else:
                    body = {k: v[0] for k, v in form.items()}
                    kind = "command"
        else:
            body = json.loads(payload)
        if kind not in TRANSLATORS:
            return None
        return TRANSLATORS[kind](body, client)[0]
    except Exception:  # noqa: BLE001 - read again, and judged, when handled
        return None


async def dispatch(
    intake: Consumer,
    entry: int,
    kind: str,
    payload: str,
    replay: bool,
    received: datetime | None = None,
    claimed: bool = False,
) -> tuple[str, str | None]:
    """Hand one kept delivery to bolt (or, for a parsed one, straight to the core).

    DONE: handled, or nothing to do (no listener wants it). RETRY: bolt stopped it
    before any listener (its ``auth.test`` failed, say), so nothing ran and trying
    again is safe. KEEP: a handler started but did not finish; it is not retried in
    this process (it may have done part of its work) but kept for the next start.
    With it, the class of the error, if one was seen."""
    outcome: set[str] = set()
    context = {
        ENTRY: entry, REPLAY: replay, OUTCOME: outcome, RECEIVED: received, CLAIMED: claimed
    }  # fmt: skip
    if kind == RAW:
        content_type = "application/json" if payload[:1] == "{" else FORM
        request = AsyncBoltRequest(
            body=payload, headers={"content-type": content_type}, context=context
        )
        try:
            response = await intake.app.async_dispatch(request)
        except UNREADABLE as e:
            # Bolt's routing reads the body's fields before any listener runs and
            # fails on an unexpected shape; trying again would fail again.
            log.warning(
                "dropping a kept Slack delivery bolt could not route (%s)", e.__class__.__name__
            )
            return DONE, None
        if HANDLED in outcome or (response.status == 404 and REACHED not in outcome):
            return DONE, None
        error = next((o[len(FAILED) :] for o in outcome if o.startswith(FAILED)), None)
        if REACHED in outcome:
            return KEEP, error
        return RETRY, error or f"not dispatched (status {response.status})"
    if kind not in TRANSLATORS:
        log.error("dropping a kept Slack delivery of unknown kind %r", kind)
        return DONE, None
    try:
        incoming, responder = intake.translate(kind, json.loads(payload), received)
    except UNREADABLE:
        log.error("dropping an unreadable kept Slack delivery (%s)", kind)
        return DONE, None
    try:
        await intake.bot.handle(incoming, responder, replay=replay, claimed=claimed)
    except Exception as e:
        log.exception("handling a kept Slack delivery (%s) failed", kind)
        return KEEP, error_class(e)
    return DONE, None
