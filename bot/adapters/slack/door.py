"""``POST /slack/events``: verify, keep, acknowledge. Nothing else on Slack's clock.

Slack waits at most three seconds for an answer and retries (then disables the app)
when it doesn't get one, so the acknowledging path does the least that makes the
delivery safe: check the signature and timestamp with slack_sdk's verifier (the one
bolt uses), keep the body in the inbox, answer 200. Parsing and routing happen in
:class:`bot.adapters.slack.intake.SlackIntake`, off this path, so a burst of clicks costs each
acknowledgement one HMAC and one small INSERT however much work the clicks cause.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from yarl import query_to_pairs

from bot.adapters.slack.dialogs import WaitingAnswers, submission_key
from bot.adapters.slack.pace import Pace
from bot.core.clock import Clock
from bot.http.json_body import fields_shaped, parse_json_text
from bot.storage.batched import BatchedWriter
from bot.storage.inbox import RAW, Inbox
from bot.storage.sql import DB_ERRORS

log = logging.getLogger(__name__)


class SlackDoor:
    def __init__(
        self,
        signing_secret: str,
        inbox: Inbox,
        clock: Clock,
        notify,
        answers: WaitingAnswers | None = None,
        answer_seconds: float = 0.0,
        pace: Pace | None = None,
    ):
        self.verifier = SignatureVerifier(signing_secret)
        self.inbox = inbox
        self.clock = clock
        self.notify = notify
        # A submitted modal's request may wait this long, once kept, for corrections to
        # show in the modal (bot/adapters/slack/dialogs.py); 0 never waits.
        self.answers = answers
        self.answer_seconds = answer_seconds
        # How far acknowledging may run ahead of handling (bot/adapters/slack/pace.py).
        self.pace = pace
        # Bodies that arrive in one turn of the event loop share one commit; each request
        # is still answered only after its own row is committed. A writer of their own,
        # ahead of the handling side's (bot/storage/batched.py, ``hot_writer``).
        self.writer = BatchedWriter(inbox.db, turns=1, label="kept Slack bodies", together=False)

    async def events(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            body = None  # Slack signs UTF-8 text only: this can't be one of its requests
        if body is None or not self._signed(body, request.headers):
            # Slack never sends these; someone else, or a clock more than 5 minutes out.
            return web.Response(status=401, text="invalid request signature")
        answer = self._answer_now(body)
        if answer is not None:
            return answer
        if self.pace is not None:
            await self.pace.enter()
        waiting = self._submission(body)
        try:
            await self.writer.submit((body, self.clock.now()), group=self._keep)
        except DB_ERRORS as e:
            # Not kept, so not acknowledged: Slack retries, and nothing is lost.
            log.error("could not keep a Slack delivery: %s", e)
            if waiting is not None and self.answers is not None:
                self.answers.drop(waiting)
            if self.pace is not None:
                self.pace.finished()  # not kept, so not ahead
            return web.Response(status=503, text="try again shortly")
        self.notify()
        if waiting is not None and self.answers is not None:
            said = await self.answers.wait(waiting, self.answer_seconds)
            if said is not None:
                return web.json_response(said)
        return web.Response(status=200)

    def _submission(self, body: str) -> str | None:
        """The delivery id of a modal's submission, whose answer this request will wait
        for (registered before the body is kept, so the handler can't finish first)."""
        if self.answers is None or self.answer_seconds <= 0:
            return None
        key = submission_key(body)
        return key if key is not None and self.answers.expect(key) else None

    async def _keep(self, rows: list[tuple[str, datetime]]) -> list[None]:
        await self.inbox.keep("slack", RAW, rows)
        return [None] * len(rows)

    def _signed(self, body: str, headers) -> bool:
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        if not timestamp.isascii() or not timestamp.isdigit():
            return False  # slack_sdk would raise on a timestamp that isn't a number
        return self.verifier.is_valid(body, timestamp, headers.get("X-Slack-Signature"))

    @staticmethod
    def _answer_now(body: str) -> web.Response | None:
        """Slack's set-up checks, answered here and kept nowhere; and a 400 for a body
        that is signed but is no Slack request, so junk is never kept.

        Only the outer shape is checked (a JSON object with a ``type``, or a form with a
        ``command`` or a JSON ``payload``), which costs one parse of a few kilobytes; what
        is inside is the intake's business. Slack never sends anything else, so a
        refusal here means someone holds the signing secret, or a bug of ours."""
        if body[:1] == "{":
            data = parse_json_text(body)
            if not _envelope(data):
                return _not_slack()
            if data["type"] == "url_verification":
                challenge = data.get("challenge")
                return web.json_response({"challenge": challenge if type(challenge) is str else ""})
            return None
        try:
            form = form_fields(body)
        except ValueError:
            return _not_slack()
        if form.get("ssl_check") == ["1"]:
            return web.Response(status=200)  # the certificate check for slash commands
        if "payload" in form:
            if not _envelope(parse_json_text(form["payload"][0])):
                return _not_slack()
            return None
        if form.get("command", [""])[0].startswith("/"):
            return None
        return _not_slack()


# Slack's slash-command form has about 15 fields.
MAX_FORM_FIELDS = 200
# In every Events API body and interaction payload these, when present, are objects (or
# null) and these lists of objects; bolt reads them assuming so before any listener runs.
_OBJECTS = ("event", "team", "user", "channel", "enterprise", "container", "view", "message")
_LISTS = ("actions", "authorizations")


def form_fields(body: str) -> dict[str, list[str]]:
    """The fields of a form body, as ``urllib.parse.parse_qs(body, keep_blank_values=True,
    max_num_fields=MAX_FORM_FIELDS)`` reads them (bolt reads them so in the intake), but
    with yarl's percent-decoding in C: on Python 3.11, ``parse_qs`` of a click's 1 KB
    payload cost more than the rest of the acknowledgement together."""
    form: dict[str, list[str]] = {}
    for name, value in query_to_pairs(body, max_fields=MAX_FORM_FIELDS):
        form.setdefault(name, []).append(value)
    return form


def _envelope(data: object) -> bool:
    """Whether ``data`` has the outer shape of a Slack event or interaction payload."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return False
    if not fields_shaped(data, _OBJECTS, _LISTS):
        return False
    event = data.get("event")
    return event is None or isinstance(event.get("type", ""), str)


def _not_slack() -> web.Response:
    return web.json_response(
        {"ok": False, "error": "The body is not a Slack command, interaction or event."},
        status=400,
    )


def door_routes(door: SlackDoor) -> list[web.RouteDef]:
    return [web.post("/slack/events", door.events)]
