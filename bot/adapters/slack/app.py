"""Slack: bolt's ``AsyncApp`` routes deliveries to the core, and slack_sdk talks back.

Over HTTP, :mod:`bot.adapters.slack.door` verifies, keeps and acknowledges each
request; :class:`SlackIntake` then handles the kept requests through bolt's listeners.
Socket Mode deliveries come through bolt directly and join the same inbox. Either way
the core sees an :class:`~bot.core.model.Incoming` and a :class:`SlackResponder`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from contextlib import suppress
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack.failures import (
    DEFAULT_MAX_AGE_HOURS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETENTION_DAYS,
    INTERRUPTED,
    FailedDeliveries,
)
from bot.adapters.slack.scrub import trigger_key
from bot.core import WORKSPACE, Bot, DeliveryFailed
from bot.core.model import Actor, Incoming, Message, MessageRef, Place
from bot.http.errors import where
from bot.render.slack import render
from bot.retry import SLACK_RATE_LIMIT, RetryPolicy
from bot.storage.inbox import RAW, Inbox, Kept
from bot.tasks import TaskSet

log = logging.getLogger(__name__)

# Errors about one conversation: that channel is gone, or the bot is not in it.
GONE = {
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "access_denied",
}
# Errors about the app's access to the whole workspace: its token was revoked or belongs
# to a deactivated install, or it lacks a permission. Every channel there would fail the
# same way, so delivery to the workspace pauses (bot/core/workspace_pause.py).
WORKSPACE_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "missing_scope",
    "org_login_required",
    "team_access_not_granted",
    "ekm_access_denied",
}


class SlackRateLimitRetry(AsyncRetryHandler):
    """slack_sdk asks this after a 429: wait as :data:`bot.retry.SLACK_RATE_LIMIT` says
    (never sooner than Retry-After) and try again, three times at most."""

    def __init__(self, policy: RetryPolicy = SLACK_RATE_LIMIT):
        super().__init__(max_retry_count=policy.attempts - 1)
        self.policy = policy

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        return response is not None and response.status_code == 429

    async def prepare_for_next_attempt_async(
        self, *, state, request, response=None, error=None
    ) -> None:
        state.next_attempt_requested = True
        retry_after = None
        if response is not None:
            for name, values in response.headers.items():
                if name.lower() == "retry-after" and values:
                    try:
                        retry_after = float(values[0])
                    except ValueError:
                        retry_after = None
        await asyncio.sleep(self.policy.delay(state.current_attempt + 1, retry_after))
        state.increment_current_attempt()


def configure_client(client: AsyncWebClient, base_url: str) -> AsyncWebClient:
    """Point bolt's own Web API client at ``SLACK_API_URL`` and retry 429s.

    Configuring bolt's client, rather than handing bolt one of ours, avoids bolt's
    start-up warning that the SLACK_BOT_TOKEN variable is being ignored.
    """
    client.base_url = base_url
    client.retry_handlers.append(SlackRateLimitRetry())
    return client


def session_ctx(client: AsyncWebClient):
    """One pooled HTTP session for every Web API and response_url call.

    Without it slack_sdk opens a new session (and connection) per call, which under a
    burst of clicks costs more than the handlers themselves.
    """

    async def ctx(app: web.Application):
        client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        yield
        await client.session.close()
        client.session = None

    return ctx


class ResponseUrl:
    """Posts to a delivery's ``response_url`` (valid for 30 minutes, 5 uses)."""

    def __init__(self, url: str, client: AsyncWebClient):
        self.url = url
        self.client = client

    async def __call__(self, **body: Any) -> None:
        hook = AsyncWebhookClient(self.url, session=self.client.session)
        resp = await hook.send_dict(body)
        if resp.status_code >= 400:
            log.warning("response_url answered %s", resp.status_code)


def _respond(body: dict, client: AsyncWebClient) -> ResponseUrl | None:
    url = body.get("response_url")
    return ResponseUrl(url, client) if url else None


def _strip(action_id: str) -> str:
    return action_id.split("#", 1)[0]


class SlackTransport:
    """Posting outside a delivery: scheduled tips, quiz closes, pages to a channel."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient):
        from bot.adapters.slack.web_api import ChatPoster

        self.client = client
        # A tip fan-out posts one message to thousands of channels: serialise it once
        # and post over the client's session, with slack_sdk's retries and errors.
        self.poster = ChatPoster(client)

    async def post(self, place: Place, msg: Message) -> MessageRef | None:
        try:
            if self.poster.usable():
                ts = (await self.poster.post(place, msg))["ts"]
            else:
                kwargs: dict[str, Any] = {"channel": place.channel, **render(msg)}
                if place.thread:
                    kwargs["thread_ts"] = place.thread
                ts = (await self.client.chat_postMessage(**kwargs))["ts"]
        except SlackApiError as e:
            raise _failure(e) from None
        return MessageRef(place, ts)

    async def post_private(self, place: Place, actor: Actor, msg: Message) -> None:
        try:
            await self.client.chat_postEphemeral(
                channel=place.channel, user=actor.user_id, **render(msg)
            )
        except SlackApiError as e:
            raise _failure(e) from None

    async def update(self, ref: MessageRef, msg: Message) -> None:
        try:
            await self.client.chat_update(channel=ref.place.channel, ts=ref.id, **render(msg))
        except SlackApiError as e:
            raise _failure(e) from None

    # --- rooms and people (neutral operations the incident desk and paging use) ---

    private_rooms = True  # open_room can make a private channel

    def thread_under(self, ref: MessageRef) -> Place:
        """Where replies to a message go: its thread."""
        return replace(ref.place, thread=ref.id)

    def direct_place(self, workspace: str, user_id: str) -> Place:
        """A direct conversation with one person (a Slack user id posts as a DM)."""
        return Place("slack", workspace, user_id, is_direct=True)

    async def open_room(self, origin: Place, name: str, people: list[str]) -> Place | None:
        """A private channel named ``name`` with ``people`` (actor keys) invited. None
        when Slack refuses (missing scopes, name taken): the caller falls back."""
        try:
            created = await self.client.conversations_create(name=name, is_private=True)
            channel = created["channel"]["id"]
            users = slack_users(people)
            if users:
                await self.client.conversations_invite(channel=channel, users=",".join(users))
        except Exception as e:  # noqa: BLE001 - SlackApiError or a network error: fall back
            log.warning("could not create a private channel: %s", type(e).__name__)
            return None
        return Place("slack", origin.workspace, channel)

    async def invite(self, room: Place, people: list[str]) -> None:
        """Invite ``people`` (actor keys; those who are not Slack users are ignored)."""
        users = slack_users(people)
        if not users or room.platform != "slack":
            return
        try:
            await self.client.conversations_invite(channel=room.channel, users=",".join(users))
        except Exception as e:  # noqa: BLE001 - already in the channel, or missing scopes
            log.warning("could not invite to a channel: %s", type(e).__name__)


_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def slack_users(people: list[str]) -> list[str]:
    """Slack user ids among actor keys (``slack:U123``) or bare ids (``U123``)."""
    users: list[str] = []
    for member in people:
        head, sep, rest = member.partition(":")
        user = rest if sep and head == "slack" else (member if not sep else "")
        if _SLACK_USER.match(user) and user not in users:
            users.append(user)
    return users


def _failure(e: SlackApiError) -> DeliveryFailed:
    error = str(e.response.get("error", "unknown")) if e.response is not None else "unknown"
    retry_after = None
    if e.response is not None and e.response.status_code == 429:
        retry_after = float(e.response.headers.get("Retry-After", "1") or 1)
    if error in WORKSPACE_ERRORS:
        return DeliveryFailed(error, retry_after=retry_after, scope=WORKSPACE)
    return DeliveryFailed(error, permanent=error in GONE, retry_after=retry_after)


class SlackResponder:
    """Answers within one delivery, preferring ``response_url`` for private replies
    because it works in every kind of conversation, DMs included."""

    def __init__(
        self,
        client: AsyncWebClient,
        place: Place,
        actor: Actor,
        respond: Any = None,
        original: MessageRef | None = None,
        original_ephemeral: bool = False,
    ):
        self.client = client
        self.place = place
        self.actor = actor
        self.respond = respond
        self.original = original
        self.original_ephemeral = original_ephemeral

    async def reply(self, msg: Message) -> MessageRef | None:
        if msg.attachment:
            await self._upload(msg)
        body = render(msg)
        if msg.private:
            if self.respond is not None:
                await self.respond(response_type="ephemeral", replace_original=False, **body)
            else:
                await self.client.chat_postEphemeral(
                    channel=self.place.channel, user=self.actor.user_id, **body
                )
            return None
        try:
            kwargs: dict[str, Any] = {"channel": self.place.channel, **body}
            if self.place.thread:
                kwargs["thread_ts"] = self.place.thread
            resp = await self.client.chat_postMessage(**kwargs)
            return MessageRef(self.place, resp["ts"])
        except SlackApiError as e:
            # A slash command in a conversation the bot is not part of: fall back.
            error = e.response.get("error")
            if self.respond is None or (error not in GONE and error not in WORKSPACE_ERRORS):
                raise
            await self.respond(response_type="in_channel", **body)
            return None

    async def update_original(self, msg: Message) -> None:
        body = render(msg)
        if self.original is None:
            await self.reply(msg)
        elif self.original_ephemeral and self.respond is not None:
            await self.respond(replace_original=True, **body)
        else:
            await self.client.chat_update(
                channel=self.original.place.channel, ts=self.original.id, **body
            )

    async def _upload(self, msg: Message) -> None:
        filename, content = msg.attachment  # type: ignore[misc]
        await self.client.files_upload_v2(
            channel=self.place.channel,
            filename=filename,
            content=content,
            title=filename,
            thread_ts=self.place.thread,
        )


def _enterprise(body: dict) -> str:
    """The Enterprise Grid org id, where Slack sends one: ``enterprise_id`` on slash
    commands and events, ``enterprise.id`` on interactions, else ``user.enterprise_id``."""
    org = body.get("enterprise")
    found = org.get("id") if isinstance(org, dict) else None
    given = body.get("user")
    user = given if isinstance(given, dict) else {}
    found = found or body.get("enterprise_id") or user.get("enterprise_id")
    return found if isinstance(found, str) else ""


def _place_from(
    body: dict, channel_id: str, channel_name: str = "", thread: str | None = None
) -> Place:
    team = (body.get("team") or {}).get("id") if isinstance(body.get("team"), dict) else None
    team = team or body.get("team_id") or body.get("user", {}).get("team_id", "") or ""
    is_direct = channel_id.startswith("D") or channel_name == "directmessage"
    return Place(
        "slack", team, channel_id, is_direct=is_direct, thread=thread, enterprise=_enterprise(body)
    )


Translated = tuple[Incoming, "SlackResponder"]


def _from_command(body: dict, client: AsyncWebClient) -> Translated:
    place = _place_from(body, body["channel_id"], body.get("channel_name", ""))
    actor = Actor("slack", body["user_id"], body.get("user_name", ""))
    incoming = Incoming(
        actor=actor,
        place=place,
        kind="command",
        delivery_id=f"slack:cmd:{trigger_key(body.get('trigger_id', '')) or body.get('command')}",
        command=body["command"].lstrip("/"),
        args=(body.get("text") or "").strip(),
    )
    return incoming, SlackResponder(client, place, actor, _respond(body, client))


def _from_action(body: dict, client: AsyncWebClient) -> Translated:
    action = body["actions"][0]
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
    thread = (body.get("message") or {}).get("thread_ts")
    place = _place_from(body, channel, (body.get("channel") or {}).get("name", ""), thread)
    user = body["user"]
    actor = Actor("slack", user["id"], user.get("name") or user.get("username", ""))
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    value = action.get("value")
    if value is None and action.get("selected_option"):
        value = action["selected_option"]["value"]
    incoming = Incoming(
        actor=actor,
        place=place,
        kind="action",
        delivery_id=(
            f"slack:act:{user['id']}:{action.get('action_ts') or trigger_key(body['trigger_id'])}"
        ),
        action_id=_strip(action["action_id"]),
        value=value or "",
        message=MessageRef(place, ts) if ts else None,
    )
    responder = SlackResponder(
        client,
        place,
        actor,
        _respond(body, client),
        incoming.message,
        original_ephemeral=bool(container.get("is_ephemeral")),
    )
    return incoming, responder


def _from_view(body: dict, client: AsyncWebClient) -> Translated:
    view = body["view"]
    meta = json.loads(view.get("private_metadata") or "{}")
    channel = meta.get("channel", "")
    place = Place(
        "slack",
        body.get("team", {}).get("id", ""),
        channel,
        is_direct=channel.startswith("D"),
        thread=meta.get("thread"),
        enterprise=_enterprise(body),
    )
    user = body["user"]
    actor = Actor("slack", user["id"], user.get("name", ""))
    form: dict[str, str] = {}
    for _block_id, inputs in (view.get("state") or {}).get("values", {}).items():
        for action_id, state in inputs.items():
            val = state.get("value") or (state.get("selected_option") or {}).get("value")
            form[_strip(action_id)] = val or ""
    incoming = Incoming(
        actor=actor,
        place=place,
        kind="action",
        delivery_id=f"slack:view:{view.get('id')}:{view.get('hash', '')}",
        action_id=_strip(view.get("callback_id", "")),
        value=meta.get("value", ""),
        form=form,
    )
    return incoming, SlackResponder(client, place, actor)


def _from_event(body: dict, client: AsyncWebClient) -> Translated:
    event = body["event"]
    channel = event.get("channel", "")
    place = Place(
        "slack",
        body.get("team_id", ""),
        channel,
        is_direct=event.get("channel_type") == "im",
        thread=event.get("thread_ts"),
        enterprise=_enterprise(body),
    )
    actor = Actor("slack", event.get("user", ""))
    incoming = Incoming(
        actor=actor,
        place=place,
        kind="text",
        delivery_id=f"slack:evt:{body.get('event_id')}",
        text=event.get("text", ""),
    )
    return incoming, SlackResponder(client, place, actor)


# What a translator raises for a body of the wrong shape (a list where an object should
# be, a missing field, a number for a name): the delivery can't be read.
UNREADABLE = (KeyError, IndexError, TypeError, AttributeError, ValueError)


def _checked(incoming: Incoming) -> Incoming:
    """Refuse (TypeError) a delivery whose fields are not text, as a well-formed Slack
    body's always are: a handler given a list for a user id would fail far from here."""
    texts = (
        incoming.actor.user_id,
        incoming.actor.name,
        incoming.place.workspace,
        incoming.place.channel,
        incoming.delivery_id,
        incoming.command,
        incoming.args,
        incoming.action_id,
        incoming.value,
        incoming.text,
        *(incoming.form.values()),
    )
    optional = (incoming.place.thread, incoming.message.id if incoming.message else None)
    if not all(type(t) is str for t in texts) or not all(
        t is None or type(t) is str for t in optional
    ):
        raise TypeError("a field of the delivery is not text")
    return incoming


TRANSLATORS = {
    "command": _from_command,
    "action": _from_action,
    "view": _from_view,
    "event": _from_event,
}

# Where the consumer tells a listener which kept row a dispatch is for.
ENTRY = "secbot_inbox_entry"
REPLAY = "secbot_replay"
# The consumer's record of what the listeners did. Bolt copies the context dict it is
# given, so the listeners write into this shared object, not into the context itself.
OUTCOME = "secbot_outcome"
REACHED = "reached"  # a listener got the delivery
HANDLED = "handled"  # ... and finished with it
FAILED = "error:"  # ... and failed with this class of error (``FAILED + "SlackApiError"``)
# How many kept deliveries are handled at once; more wait in the inbox, not in memory.
# Generous, because a quiz click's handler mostly waits (for its merged message edit).
DEFAULT_HANDLERS = 500
# Acknowledgements come first for at most this long: once the oldest waiting delivery
# is older, handling gets an equal share with acknowledging until the queue catches up.
DEFAULT_DEFER_SECONDS = 10.0
# Rows read from the inbox per query.
BATCH = 256
# A safety net: look at the inbox this often even without a nudge.
IDLE_POLL_SECONDS = 5.0
# A delivery bolt did not pass to any listener (auth.test failed, say) is tried again
# after these many seconds, then left kept for the next start.
RETRY_SECONDS = (5.0, 30.0, 120.0)
# What a dispatch did with a kept delivery.
DONE, RETRY, KEEP = "done", "retry", "keep"


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


class SlackIntake:
    """Keep, acknowledge, then handle: the order that lets a crash lose nothing.

    Over HTTP the front door (:mod:`bot.adapters.slack.door`) verifies the signature,
    keeps the body and acknowledges; this consumer then reads the inbox in order and
    dispatches each body through bolt, whose listeners hand it to the core. Handling
    never sits on the acknowledging path, so Slack's answer does not wait for our work.
    Socket Mode deliveries arrive through bolt instead: the listener keeps and
    acknowledges them, and the same consumer handles them.
    """

    def __init__(
        self,
        bot: Bot,
        app: AsyncApp,
        tasks: TaskSet,
        inbox: Inbox,
        *,
        handlers: int = DEFAULT_HANDLERS,
        defer_seconds: float = DEFAULT_DEFER_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_age_hours: float = DEFAULT_MAX_AGE_HOURS,
        retention_days: float = DEFAULT_RETENTION_DAYS,
    ):
        self.bot = bot
        self.app = app
        self.client = app.client
        self.tasks = tasks
        self.inbox = inbox
        self._busy: set[int] = set()  # kept rows being handled now
        self.failures = FailedDeliveries(
            inbox,
            bot.services.clock,
            max_attempts=max_attempts,
            max_age=timedelta(hours=max_age_hours),
            retention=timedelta(days=retention_days),
            taken=lambda: (self._last, self._busy),
        )
        self.defer = timedelta(seconds=defer_seconds)
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(handlers)
        self._last = 0
        self._stopping = False
        self._stopped = asyncio.Event()
        self.handled = 0
        # Rows kept by an earlier process; read now, before Socket Mode can connect, so
        # only those are handled as replays (which skip the repeat check).
        self.replay_until = inbox.last_id("slack")

    def notify(self) -> None:
        """A row was kept: look at the inbox."""
        self._wake.set()

    # --- the listeners' side -----------------------------------------------------------

    async def take(self, kind: str, body: dict, ack, context: dict) -> None:
        if ack is not None:
            await ack()
        entry = context.get(ENTRY)
        if entry is None:
            # Socket Mode: a live delivery nobody has kept yet. Keep it; the consumer
            # handles it like an HTTP one.
            self.inbox.add("slack", kind, body, self.bot.services.clock.now())
            self.notify()
            return
        outcome = context[OUTCOME]
        outcome.add(REACHED)
        try:
            incoming, responder = self._translate(kind, body)
        except UNREADABLE:
            # Signed, so from Slack (or a holder of the secret), but not in a shape we
            # know. Trying again would fail again; never log the body (people's words).
            log.warning("dropping a Slack %s delivery of an unexpected shape", kind)
            outcome.add(HANDLED)
            return
        try:
            await self.bot.handle(incoming, responder, replay=bool(context.get(REPLAY)))
        except Exception as e:
            outcome.add(FAILED + error_class(e))
            raise
        outcome.add(HANDLED)

    def _translate(self, kind: str, body: dict) -> Translated:
        """The neutral delivery. Everything this intake hands on was acknowledged before it
        was handled (Slack already has its 200), so nothing waits for the handler."""
        incoming, responder = TRANSLATORS[kind](body, self.client)
        return replace(_checked(incoming), acknowledged=True), responder

    @staticmethod
    def ignore(context: dict) -> None:
        """A listener that deliberately does nothing with a delivery (a bot's own post)."""
        outcome = context.get(OUTCOME)
        if outcome is not None:
            outcome.update((REACHED, HANDLED))

    # --- the consumer ------------------------------------------------------------------

    async def run(self) -> None:
        """Handle what a dead process left (as replays), then every new row in order.

        Acknowledging comes first. Slack's three seconds apply to the acknowledgement,
        not the work, and a late acknowledgement makes Slack show an error and retry,
        adding load just when there is most. So under a burst the consumer starts one
        handler per turn of the event loop, and every turn also serves every request
        waiting at the door; when the door is quiet that is no brake at all. Once the
        oldest waiting delivery is ``defer_seconds`` old, handlers start without
        waiting, sharing the process evenly until the queue has caught up.
        """
        replay_until = self.replay_until
        if replay_until:
            log.warning("handling Slack deliveries left by a stopped process")
        while not self._stopping:
            self._wake.clear()
            try:
                rows = self.inbox.after("slack", self._last, BATCH)
            except sqlite3.Error as e:
                log.error("could not read kept Slack deliveries (%s); trying again", e)
                await asyncio.sleep(1)
                continue
            if not rows:
                try:
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)
                except TimeoutError:
                    pass
                continue
            behind = self._behind(rows[0].received_at)
            for row in rows:
                await self._slots.acquire()
                if self._stopping:
                    self._slots.release()
                    return
                self._last = row.id
                # A row kept by a dead process, or one tried before (a failure, an admin's
                # retry of a dead letter), may have had part of its effect: a replay.
                replay = row.id <= replay_until or row.attempts > 0
                self._busy.add(row.id)
                self.tasks.spawn(self._handle(row, replay))
                if not behind:
                    await asyncio.sleep(0)

    def _behind(self, received_at: str) -> bool:
        try:
            received = datetime.fromisoformat(received_at)
        except ValueError:
            return True
        return self.bot.services.clock.now() - received > self.defer

    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        """Start nothing new; rows not started stay kept for the next start."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()

    async def _handle(self, row: Kept, replay: bool, attempt: int = 0) -> None:
        outcome: str = KEEP
        error: str | None = INTERRUPTED
        try:
            if replay and attempt == 0 and not self.failures.begin_replay(row):
                return
            try:
                outcome, error = await self._dispatch(row.id, row.kind, row.payload, replay)
            except Exception as e:
                # Not a handler's error (the core catches and answers those): a delivery
                # that can't be read. Trying it again would fail again.
                # Never log the payload, or the error's text: they hold people's messages.
                log.error(
                    "a kept Slack delivery (%s) could not be handled (%s at %s); dropping it",
                    row.kind,
                    type(e).__name__,
                    where(e),
                )
                outcome = DONE
            # Below is not reached if cancelled (a shutdown that ran out of time): the
            # row stays kept and the next start handles it again.
            if outcome == DONE:
                self.inbox.remove(row.id)
            elif outcome == RETRY and attempt < len(RETRY_SECONDS) and not self._stopping:
                log.warning(
                    "a kept Slack delivery reached no handler; trying again in %ds",
                    RETRY_SECONDS[attempt],
                )
                self._busy.add(row.id)
                self.tasks.spawn(self._later(row, replay, attempt + 1))
            else:
                self.failures.failed(row, error or "no handler", counted=replay)
        finally:
            if outcome != RETRY or attempt >= len(RETRY_SECONDS) or self._stopping:
                self._busy.discard(row.id)
            self.handled += 1
            self._slots.release()

    async def _later(self, row: Kept, replay: bool, attempt: int):
        with suppress(TimeoutError):  # a stop ends the wait at once
            await asyncio.wait_for(self._stopped.wait(), RETRY_SECONDS[attempt - 1])
        if self._stopping:
            self._busy.discard(row.id)
            return  # still kept: the next start handles it
        await self._slots.acquire()
        await self._handle(row, replay, attempt)

    async def _dispatch(
        self, entry: int, kind: str, payload: str, replay: bool
    ) -> tuple[str, str | None]:
        """Hand one kept delivery to bolt (or, for a parsed one, straight to the core).

        DONE: handled, or nothing to do (no listener wants it). RETRY: bolt stopped it
        before any listener (its ``auth.test`` failed, say), so nothing ran and trying
        again is safe. KEEP: a handler started but did not finish; it is not retried in
        this process (it may have done part of its work) but kept for the next start.
        With it, the class of the error, if one was seen."""
        outcome: set[str] = set()
        context = {ENTRY: entry, REPLAY: replay, OUTCOME: outcome}
        if kind == RAW:
            content_type = "application/json" if payload[:1] == "{" else FORM
            request = AsyncBoltRequest(
                body=payload, headers={"content-type": content_type}, context=context
            )
            try:
                response = await self.app.async_dispatch(request)
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
            incoming, responder = self._translate(kind, json.loads(payload))
        except UNREADABLE:
            log.error("dropping an unreadable kept Slack delivery (%s)", kind)
            return DONE, None
        try:
            await self.bot.handle(incoming, responder, replay=replay)
        except Exception as e:
            log.exception("handling a kept Slack delivery (%s) failed", kind)
            return KEEP, error_class(e)
        return DONE, None


FORM = "application/x-www-form-urlencoded"


def intake_ctx(intake: SlackIntake):
    """Run the consumer once the HTTP session exists; stop it before handlers drain."""

    async def ctx(app: web.Application):
        task = asyncio.create_task(intake.run())
        tidy = asyncio.create_task(intake.failures.housekeeping_loop(intake.stopping))
        yield
        tidy.cancel()
        with suppress(asyncio.CancelledError):
            await tidy
        intake.stop()
        try:
            await asyncio.wait_for(task, 5)
        except TimeoutError:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await intake.tasks.drain()

    return ctx


def build_slack_app(settings, bot: Bot, tasks: TaskSet) -> tuple[AsyncApp, SlackIntake]:
    """The bolt app, with one listener per kind of delivery, each handing off to the core.

    Bolt routes what the consumer dispatches and what Socket Mode delivers. HTTP
    signatures are checked by the front door before anything is kept, so bolt's own
    check is off here: a kept delivery handled after a restart would otherwise fail
    its five-minute timestamp window. Slack's retries are handled by de-duplicating on
    delivery identity.
    """
    app = AsyncApp(
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,
        request_verification_enabled=False,
    )
    configure_client(app.client, settings.slack_api_url)
    intake = SlackIntake(
        bot,
        app,
        tasks,
        Inbox(bot.services.db),
        handlers=settings.slack_handlers,
        defer_seconds=settings.slack_defer_seconds,
        max_attempts=settings.dead_letter_attempts,
        max_age_hours=settings.dead_letter_hours,
        retention_days=settings.inbox_retention_days,
    )

    @app.error
    async def on_error(error: Exception, context: dict) -> None:
        """Bolt's own default logs the error's text (it may quote the body) with a
        traceback. A body of an unexpected shape (signed, so Slack's or a secret
        holder's) is dropped: trying it again would fail again. An error once a listener
        has the delivery is left to the intake (kept, then dead-lettered)."""
        reached = REACHED in (context.get(OUTCOME) or ())
        if isinstance(error, UNREADABLE) and not reached:
            log.warning("dropping a Slack delivery bolt could not read (%s)", type(error).__name__)
            intake.ignore(context)
        else:
            log.error("Slack: bolt failed (%s at %s)", type(error).__name__, where(error))

    @app.command(re.compile(r"^/.+"))
    async def on_command(ack, body, context):
        await intake.take("command", body, ack, context)

    @app.action(re.compile(r".+"))
    async def on_action(ack, body, context):
        await intake.take("action", body, ack, context)

    @app.view(re.compile(r".+"))
    async def on_view(ack, body, context):
        await intake.take("view", body, ack, context)

    async def on_text(body, event, context):
        if event.get("bot_id") or event.get("subtype"):
            intake.ignore(context)  # our own posts and edits: nothing to do
            return
        await intake.take("event", body, None, context)

    app.event("app_mention")(on_text)

    async def on_message(body, event, context):
        if event.get("channel_type") == "im":
            await on_text(body, event, context)
        else:
            intake.ignore(context)  # channel chatter: we only answer mentions there

    app.event("message")(on_message)
    return app, intake
