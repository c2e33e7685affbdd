"""Forms as Slack modals: opening one from a command or click, reading its submission
back, and answering a submission while Slack still waits (``response_action``).

A neutral form asks for a dialog with ``Message.dialog``. A modal needs the
``trigger_id`` of the command or click it answers, which Slack lets an app use once,
within three seconds of the click. The intake runs a handler as soon as the front door
has kept and acknowledged its delivery, so that is normally milliseconds; under a burst,
or when Slack refuses the trigger, the form is shown in the message instead (as on
Teams and the web chat) and the log says why.

The modal's ``private_metadata`` carries what its submission needs (the submit button's
action and value, and the conversation it was opened from), sealed with a MAC keyed by
the signing secret: Slack hands it back unchanged, and nothing else can make one. It
grants nothing: the handler checks permission on submit as on any click.

A submission's HTTP request is the only one Slack lets an app answer with something
(``response_action: errors`` keeps the modal open with a note under each wrong field).
The front door keeps and acknowledges it like any delivery, but holds the answer for
up to ``SECBOT_SLACK_DIALOG_ANSWER_SECONDS`` (:class:`WaitingAnswers`) while the intake
handles it; a handler that finishes, or a wait that runs out, lets the modal close, and
a correction then comes as a private message with the form again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.scrub import trigger_key
from bot.core.clock import Clock
from bot.core.model import Actor, Message, Place
from bot.render.slack_modal import modal, submit_button

log = logging.getLogger(__name__)

# Slack's trigger_id lasts three seconds from the click; opening the modal takes one
# Web API call, so a handler that starts later than this shows the form in the message.
TRIGGER_SECONDS = 2.5
MAX_METADATA = 3000
_MAC = 32  # hex characters of the seal
MAX_FIELDS = 200  # as the front door reads a form


class Seal:
    """A MAC over the modal's metadata, keyed by (a key derived from) the signing secret."""

    def __init__(self, secret: str):
        self.key = hmac.new(secret.encode(), b"secbot slack dialog", hashlib.sha256).digest()

    def _mac(self, body: str) -> str:
        return hmac.new(self.key, body.encode(), hashlib.sha256).hexdigest()[:_MAC]

    def seal(self, data: dict[str, str]) -> str:
        body = json.dumps(data, separators=(",", ":"), sort_keys=True)
        return f"{self._mac(body)}.{body}"

    def open(self, text: object) -> dict[str, str] | None:
        """The data sealed in ``text``; None when it is not one of ours."""
        if not isinstance(text, str) or text[_MAC : _MAC + 1] != ".":
            return None
        mac, body = text[:_MAC], text[_MAC + 1 :]
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        data = json.loads(body)
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return None
        return data


def view_delivery_id(body: dict[str, Any]) -> str:
    """A submission's identity: the view and the submission's own trigger, the same for
    Slack's retry of one submission and different for the next press of submit (the
    view's ``hash`` alone stays the same when a corrected form is sent again)."""
    view = body.get("view") or {}
    press = trigger_key(str(body.get("trigger_id") or "")) or str(view.get("hash", ""))
    return f"slack:view:{view.get('id')}:{press}"


def submission_key(body: str) -> str | None:
    """The delivery id of a kept HTTP body that is a modal's submission, else None."""
    if "view_submission" not in body or body[:1] == "{":
        return None
    try:
        payload = parse_qs(body, max_num_fields=MAX_FIELDS).get("payload", [""])[0]
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type") != "view_submission":
        return None
    if not isinstance(data.get("view") or {}, dict):
        return None
    return view_delivery_id(data)


class WaitingAnswers:
    """View submissions whose HTTP request is still open, by delivery id: the front door
    waits here (bounded) for what the handler wants to say, if anything."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[dict | None]] = {}

    def expect(self, key: str) -> bool:
        """Start waiting for ``key`` (False when a request for it is waiting already: a
        retry from Slack just gets its acknowledgement)."""
        if key in self._waiting:
            return False
        self._waiting[key] = asyncio.get_running_loop().create_future()
        return True

    async def wait(self, key: str, seconds: float) -> dict | None:
        """The answer for ``key``, or None when there is none within ``seconds``."""
        future = self._waiting.get(key)
        if future is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(future), seconds)
        except TimeoutError:
            return None
        finally:
            self._waiting.pop(key, None)

    def drop(self, key: str) -> None:
        self._waiting.pop(key, None)

    def answer(self, key: str, body: dict | None) -> bool:
        """Give the waiting request its answer (None: close the modal); False when no
        request waits for ``key`` any more (then say it another way)."""
        future = self._waiting.get(key)
        if future is None or future.done():
            return False
        future.set_result(body)
        return True


@dataclass(frozen=True)
class Submitted:
    """What a submission's sealed metadata said."""

    action_id: str
    value: str
    channel: str
    thread: str | None


class Dialogs:
    """Opens modals for one Slack app and reads their submissions back."""

    def __init__(self, client: AsyncWebClient, secret: str, clock: Clock):
        self.client = client
        self.seal = Seal(secret)
        self.clock = clock
        self.answers = WaitingAnswers()

    def fresh(self, received: datetime | None) -> float | None:
        """Seconds since the delivery arrived, or None when it is too late for a modal."""
        age = 0.0 if received is None else (self.clock.now() - received).total_seconds()
        return age if age <= TRIGGER_SECONDS else None

    async def open(
        self,
        trigger_id: str,
        received: datetime | None,
        place: Place,
        actor: Actor,
        msg: Message,
    ) -> bool:
        """Show ``msg`` as a modal; False (logged) when it can't be, so the caller shows
        the form in the message instead."""
        found = submit_button(msg)
        if not trigger_id or found is None:
            return False
        if self.fresh(received) is None:
            log.warning(
                "showing a form in the message, not as a modal: its delivery waited more "
                "than %.1f s and Slack's trigger lasts 3 s",
                TRIGGER_SECONDS,
            )
            return False
        _, submit, _ = found
        meta = {"a": submit.action_id, "v": submit.value, "c": place.channel, "u": actor.user_id}
        if place.thread:
            meta["t"] = place.thread
        sealed = self.seal.seal(meta)
        view = modal(msg, sealed) if len(sealed) <= MAX_METADATA else None
        if view is None:
            log.warning("showing a form in the message, not as a modal: it does not fit one")
            return False
        try:
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as e:
            error = e.response.get("error") if e.response is not None else None
            log.warning(
                "showing a form in the message, not as a modal: Slack refused views.open (%s)",
                error if isinstance(error, str) and error.isidentifier() else "an error",
            )
            return False
        return True

    def read(self, view: dict[str, Any], user_id: str) -> Submitted | None:
        """The sealed metadata of a submitted modal opened for ``user_id``; None when it is
        not one of ours (or not that person's)."""
        data = self.seal.open(view.get("private_metadata"))
        if data is None or data.get("u") != user_id or not data.get("c"):
            return None
        return Submitted(data.get("a", ""), data.get("v", ""), data["c"], data.get("t"))


@dataclass(frozen=True)
class DeliveryDialogs:
    """The dialogs of one delivery: when it arrived (how fresh its trigger is)."""

    dialogs: Dialogs
    received: datetime | None = None

    async def open(self, trigger_id: str, place: Place, actor: Actor, msg: Message) -> bool:
        return await self.dialogs.open(trigger_id, self.received, place, actor, msg)
