"""The Slack front door: slack-bolt ``AsyncApp`` over HTTP and, optionally, Socket Mode.

Bolt verifies the request signature and timestamp, acknowledges within Slack's
three seconds, and hands each slash command, button click and mention to the core
as an :class:`~bot.model.Incoming`.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core import Bot, DeliveryFailed
from bot.model import Actor, Incoming, Message, MessageRef, Place
from bot.render.slack import render
from bot.storage.inbox import Inbox
from bot.tasks import TaskSet

log = logging.getLogger(__name__)

GONE = {
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "account_inactive",
    "team_access_not_granted",
    "access_denied",
    "missing_scope",
}


def configure_client(client: AsyncWebClient, base_url: str) -> AsyncWebClient:
    """Point bolt's own Web API client at ``SLACK_API_URL`` and retry 429s.

    Configuring bolt's client, rather than handing bolt one of ours, avoids bolt's
    start-up warning that the SLACK_BOT_TOKEN variable is being ignored.
    """
    client.base_url = base_url
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
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
        self.client = client

    async def post(self, place: Place, msg: Message) -> MessageRef | None:
        try:
            kwargs: dict[str, Any] = {"channel": place.channel, **render(msg)}
            if place.thread:
                kwargs["thread_ts"] = place.thread
            resp = await self.client.chat_postMessage(**kwargs)
        except SlackApiError as e:
            raise _failure(e) from None
        return MessageRef(place, resp["ts"])

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


def _failure(e: SlackApiError) -> DeliveryFailed:
    error = str(e.response.get("error", "unknown")) if e.response is not None else "unknown"
    retry_after = None
    if e.response is not None and e.response.status_code == 429:
        retry_after = float(e.response.headers.get("Retry-After", "1") or 1)
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
            if self.respond is None or e.response.get("error") not in GONE:
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


def _place_from(
    body: dict, channel_id: str, channel_name: str = "", thread: str | None = None
) -> Place:
    team = (body.get("team") or {}).get("id") if isinstance(body.get("team"), dict) else None
    team = team or body.get("team_id") or body.get("user", {}).get("team_id", "") or ""
    is_direct = channel_id.startswith("D") or channel_name == "directmessage"
    return Place("slack", team, channel_id, is_direct=is_direct, thread=thread)


Translated = tuple[Incoming, "SlackResponder"]


def _from_command(body: dict, client: AsyncWebClient) -> Translated:
    place = _place_from(body, body["channel_id"], body.get("channel_name", ""))
    actor = Actor("slack", body["user_id"], body.get("user_name", ""))
    incoming = Incoming(
        actor=actor,
        place=place,
        kind="command",
        delivery_id=f"slack:cmd:{body.get('trigger_id') or body.get('command')}",
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
        delivery_id=f"slack:act:{user['id']}:{action.get('action_ts') or body['trigger_id']}",
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


TRANSLATORS = {
    "command": _from_command,
    "action": _from_action,
    "view": _from_view,
    "event": _from_event,
}


def replay_ctx(intake: SlackIntake):
    """At start-up, once the HTTP session exists, handle deliveries a dead process kept."""

    async def ctx(app: web.Application):
        intake.replay()
        yield

    return ctx


class SlackIntake:
    """Keep, acknowledge, then handle: the order that lets a crash lose nothing."""

    def __init__(self, bot: Bot, client: AsyncWebClient, tasks: TaskSet, inbox: Inbox):
        self.bot = bot
        self.client = client
        self.tasks = tasks
        self.inbox = inbox

    async def take(self, kind: str, body: dict, ack) -> None:
        translated = TRANSLATORS[kind](body, self.client)
        entry = self.inbox.add("slack", kind, body, self.bot.services.clock.now())
        if ack is not None:
            await ack()
        self.tasks.spawn(self._handle(entry, *translated))

    async def _handle(
        self, entry: int, incoming: Incoming, responder: SlackResponder, replay: bool = False
    ) -> None:
        await self.bot.handle(incoming, responder, replay=replay)
        self.inbox.remove(entry)

    def replay(self) -> int:
        """Handle what a previous process acknowledged but never finished."""
        entries = self.inbox.pending("slack")
        for entry, kind, body in entries:
            try:
                incoming, responder = TRANSLATORS[kind](body, self.client)
            except (KeyError, TypeError, ValueError):
                log.error("dropping an unreadable kept Slack delivery (%s)", kind)
                self.inbox.remove(entry)
                continue
            self.tasks.spawn(self._handle(entry, incoming, responder, replay=True))
        if entries:
            log.warning("handling %d Slack deliveries left by a stopped process", len(entries))
        return len(entries)


def build_slack_app(settings, bot: Bot, tasks: TaskSet) -> tuple[AsyncApp, SlackIntake]:
    """The bolt app, with one listener per kind of delivery, each handing off to the core.

    Each listener keeps the delivery in the inbox, acknowledges, hands it to the core in
    a tracked task and returns, so Slack gets its answer at once. (With bolt's
    ``process_before_response=False`` the response would instead wait for a 10 ms
    polling loop to notice the ack.) Slack's own retries are handled by de-duplicating
    on delivery identity.
    """
    app = AsyncApp(
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,
    )
    configure_client(app.client, settings.slack_api_url)
    intake = SlackIntake(bot, app.client, tasks, Inbox(bot.services.db))

    @app.command(re.compile(r"^/.+"))
    async def on_command(ack, body):
        await intake.take("command", body, ack)

    @app.action(re.compile(r".+"))
    async def on_action(ack, body):
        await intake.take("action", body, ack)

    @app.view(re.compile(r".+"))
    async def on_view(ack, body):
        await intake.take("view", body, ack)

    async def on_text(body, event):
        if event.get("bot_id") or event.get("subtype"):
            return
        await intake.take("event", body, None)

    app.event("app_mention")(on_text)

    async def on_message(body, event):
        if event.get("channel_type") == "im":
            await on_text(body, event)

    app.event("message")(on_message)
    return app, intake


def slack_routes(app: AsyncApp) -> list[web.RouteDef]:
    async def events(request: web.Request) -> web.StreamResponse:
        bolt_req = await to_bolt_request(request)
        bolt_resp = await app.async_dispatch(bolt_req)
        return await to_aiohttp_response(bolt_resp)

    return [web.post("/slack/events", events)]
