"""The Teams front door: botbuilder's ``CloudAdapter`` on ``POST /api/messages``.

We call ``process_activity`` ourselves instead of ``CloudAdapter.process`` because
the latter answers 500 to invoke activities whose body is a plain dict, raises a
KeyError without a Content-Type, and turns a bad token into a 500 (see
platform-notes). Teams has no slash commands, so typed text is parsed by the core.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from types import SimpleNamespace
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.core.invoke_response import InvokeResponse
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    CallerIdConstants,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
)
from botframework.connector.models import ErrorResponseException
from sqlite_utils import Database

from bot.adapters.teams.auth import (
    KeysUnavailable,
    SigningKeys,
    TokenRejected,
    TokenValidator,
    is_loopback_url,
)
from bot.adapters.teams.credentials import NonBlockingCredentialsFactory, OutboundTokenUnavailable
from bot.adapters.teams.request import BadActivity, check_envelope, to_activity
from bot.commands.help import welcome_message
from bot.core import WORKSPACE, Bot, DeliveryFailed
from bot.core.model import Actor, Incoming, Message, MessageRef, Place
from bot.http.json_body import read_json_object
from bot.render.teams import CARD_CONTENT_TYPE, MAX_CARD_BYTES, render_activity, render_card
from bot.render.teams import size as render_size

log = logging.getLogger(__name__)

DOMAIN = "core.teams"
MIGRATIONS = [
    """
    CREATE TABLE teams_conversations (
        conversation_id TEXT PRIMARY KEY,
        reference TEXT NOT NULL,
        tenant_id TEXT,
        is_personal INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        updated_at TEXT NOT NULL
    )
    """,
    # Who is who: an actor's key is their Entra (AAD) object id, but opening a 1:1 chat
    # proactively needs their Teams id (29:...), which only arrives on their activities.
    """
    CREATE TABLE teams_users (
        user_id TEXT PRIMARY KEY,
        teams_id TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    # How the reference was vouched for: 'token' (a validated Bot Framework token named
    # its serviceUrl) or 'development' (a loopback serviceUrl, no app id). Rows kept
    # before this column existed are NULL.
    "ALTER TABLE teams_conversations ADD COLUMN trust TEXT",
]


class ConversationStore:
    """Conversation references, kept from every authenticated activity, for proactive
    messages. Only the front door calls ``save``, and only after the activity passed."""

    def __init__(self, db: Database):
        self.db = db

    def save(self, activity: Activity, now: str, trust: str) -> None:
        ref = TurnContext.get_conversation_reference(activity)
        conv = activity.conversation
        self.db.execute(
            "INSERT INTO teams_conversations (conversation_id, reference, tenant_id, is_personal,"
            " active, updated_at, trust) VALUES (?, ?, ?, ?, 1, ?, ?)"
            " ON CONFLICT(conversation_id) DO UPDATE SET reference = excluded.reference,"
            " tenant_id = excluded.tenant_id, active = 1, updated_at = excluded.updated_at,"
            " trust = excluded.trust",
            [
                conv.id,
                json.dumps(ref.serialize()),
                conv.tenant_id,
                int((conv.conversation_type or "personal") == "personal"),
                now,
                trust,
            ],
        )

    def remember_user(self, activity: Activity, now: str) -> None:
        user = activity.from_property
        if user is None or not user.id:
            return
        self.db.execute(
            "INSERT INTO teams_users (user_id, teams_id, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET teams_id = excluded.teams_id,"
            " updated_at = excluded.updated_at",
            [user.aad_object_id or user.id, user.id, now],
        )

    def teams_id(self, user_id: str) -> str | None:
        row = self.db.execute(
            "SELECT teams_id FROM teams_users WHERE user_id = ?", [user_id]
        ).fetchone()
        return row[0] if row else None

    def get(self, conversation_id: str) -> tuple[ConversationReference, str | None] | None:
        """The stored reference and how it was vouched for (see the ``trust`` column)."""
        row = self.db.execute(
            "SELECT reference, trust FROM teams_conversations WHERE conversation_id = ?",
            [conversation_id],
        ).fetchone()
        return (ConversationReference().deserialize(json.loads(row[0])), row[1]) if row else None

    def mark_inactive(self, conversation_id: str) -> None:
        self.db.execute(
            "UPDATE teams_conversations SET active = 0 WHERE conversation_id = ?", [conversation_id]
        )


def _to_activity(msg: Message, **extra: Any) -> Activity:
    body = render_activity(msg)
    return Activity().deserialize({**body, **extra})


def _dict(value: Any) -> dict:
    """``value`` if it is a JSON object, else an empty one: free-form activity fields
    (value, channelData) can hold anything, and a surprise must not end the turn."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _place(activity: Activity) -> Place:
    conv = activity.conversation
    channel_data = _dict(activity.channel_data)
    team = _text(_dict(channel_data.get("team")).get("id"))
    tenant = _text(conv.tenant_id) or _text(_dict(channel_data.get("tenant")).get("id"))
    return Place(
        "teams",
        tenant or team or "",
        conv.id,
        is_direct=(conv.conversation_type or "personal") == "personal",
    )


def _actor(activity: Activity) -> Actor:
    user = activity.from_property or ChannelAccount(id="", name="")
    return Actor("teams", user.aad_object_id or user.id or "", user.name or "")


class TeamsTransport:
    """Proactive messages through stored conversation references."""

    platform = "teams"

    def __init__(self, adapter: CloudAdapter, store: ConversationStore, app_id: str):
        self.adapter = adapter
        self.store = store
        self.app_id = app_id

    def _trusted(self, ref: ConversationReference, trust: str | None) -> bool:
        """Call only a serviceUrl a validated token named (or, with no app id, loopback).

        Rows kept before trust was recorded are used only for an https serviceUrl when
        the bot has an app id: open mode only ever kept the Emulator's http://localhost."""
        if not self.app_id:
            return is_loopback_url(ref.service_url)
        if trust == "token":
            return True
        return trust is None and (ref.service_url or "").lower().startswith("https://")

    async def _continue(self, conversation_id: str, fn) -> Any:
        stored = self.store.get(conversation_id)
        if stored is None:
            raise DeliveryFailed("no conversation reference", permanent=True)
        ref, trust = stored
        if not self._trusted(ref, trust):
            log.warning("teams: not calling an untrusted serviceUrl for a stored conversation")
            raise DeliveryFailed("untrusted conversation reference", permanent=True)
        result: dict[str, Any] = {}

        async def callback(ctx: TurnContext) -> None:
            # Caught here and re-raised below: raised inside the turn, the adapter would
            # hand it to on_turn_error (which only logs), and the caller would see success.
            try:
                result["value"] = await fn(ctx)
            except Exception as e:  # noqa: BLE001
                result["error"] = e

        try:
            await self.adapter.continue_conversation(ref, callback, self.app_id)
            if "error" in result:
                raise result["error"]
        except OutboundTokenUnavailable as e:
            raise DeliveryFailed("teams: no outbound token", retry_after=e.retry_after) from None
        except ErrorResponseException as e:
            status = getattr(e.response, "status_code", 0)
            if status == 401:
                # The Bot Connector refused the bot's own credentials: not this
                # conversation's doing, and every other one in the tenant would fail too.
                raise DeliveryFailed("teams 401", scope=WORKSPACE) from None
            if status in (403, 404):
                # This conversation blocked or removed the bot (or no longer exists).
                self.store.mark_inactive(conversation_id)
                raise DeliveryFailed(f"teams {status}", permanent=True) from None
            retry = None
            if status == 429:
                retry = float(e.response.headers.get("Retry-After", "1") or 1)
            raise DeliveryFailed(f"teams {status}", retry_after=retry) from None
        return result.get("value")

    async def post(self, place: Place, msg: Message) -> MessageRef | None:
        async def send(ctx: TurnContext):
            return await ctx.send_activity(_to_activity(msg))

        resp = await self._continue(place.channel, send)
        return MessageRef(place, resp.id) if resp is not None and resp.id else None

    async def post_private(self, place: Place, actor: Actor, msg: Message) -> None:
        # Teams has no ephemeral messages: a private post goes to the person's 1:1 chat.
        # The channel's stored reference names whoever spoke last, so name the actor.
        member = self.store.teams_id(actor.user_id) or actor.user_id

        async def send(ctx: TurnContext):
            await _send_personal(self.adapter, self.app_id, ctx.activity, member, msg)

        await self._continue(place.channel, send)

    async def update(self, ref: MessageRef, msg: Message) -> None:
        async def upd(ctx: TurnContext):
            await ctx.update_activity(_to_activity(msg, id=ref.id))

        await self._continue(ref.place.channel, upd)

    # --- rooms and people: the incident is worked in the conversation it came from ---

    private_rooms = False

    def thread_under(self, ref: MessageRef) -> Place:
        return ref.place

    def direct_place(self, workspace: str, user_id: str) -> Place:
        """A 1:1 chat with one person, named by their Teams id."""
        return Place("teams", workspace, user_id, is_direct=True)

    async def open_room(self, origin: Place, name: str, people: list[str]) -> Place | None:
        return None

    async def invite(self, room: Place, people: list[str]) -> None:
        return None

    async def upload(self, place: Place, filename: str, content: str) -> MessageRef | None:
        """The file as an attachment, and its text in the conversation too (some Teams
        clients offer no download for a data-URL file), as a reply with a file does."""
        msg = Message(text=filename, attachment=(filename, content))

        async def send(ctx: TurnContext):
            resp = await ctx.send_activity(_with_file(_to_activity(msg), filename, content))
            await ctx.send_activity(_file_as_text(filename, content))
            return resp

        resp = await self._continue(place.channel, send)
        return MessageRef(place, resp.id) if resp is not None and resp.id else None

    async def lookup(self, workspace: str, user_id: str) -> Actor | None:
        """Someone who has talked to the bot (Teams gives names only within a turn, and
        each activity carries the sender's): known by id, without a stored name."""
        return Actor("teams", user_id, "") if self.store.teams_id(user_id) else None


async def _send_personal(
    adapter: CloudAdapter, app_id: str, activity: Activity, member_id: str, msg: Message
) -> None:
    """Open (or reopen: Teams returns the same one) the 1:1 chat with ``member_id``."""
    conv = activity.conversation
    params = ConversationParameters(
        is_group=False,
        bot=activity.recipient,
        members=[ChannelAccount(id=member_id)],
        tenant_id=conv.tenant_id,
        channel_data={"tenant": {"id": conv.tenant_id}} if conv.tenant_id else None,
    )

    async def send(ctx: TurnContext) -> None:
        await ctx.send_activity(_to_activity(msg))

    await adapter.create_conversation(
        app_id, send, params, activity.channel_id, activity.service_url
    )


def _file_attachment(filename: str, content: str) -> Attachment:
    """A text file carried in the message itself, as a data URL."""
    encoded = base64.b64encode(content.encode("utf-8")).decode("ascii")
    return Attachment(
        content_type="text/markdown",
        name=filename,
        content_url=f"data:text/markdown;base64,{encoded}",
    )


def _file_as_text(filename: str, content: str) -> Activity:
    """The file's text as a message of its own, cut to fit Teams' activity size limit
    (with a pointer to the file that has it all)."""
    tail = f"\n\n(Shortened here: {filename} has it all.)"
    if render_size({"text": content}) > MAX_CARD_BYTES:
        budget = MAX_CARD_BYTES - render_size({"text": tail})
        low, high = 0, len(content)
        while low < high:  # the longest prefix that fits, measured as it is sent
            mid = (low + high + 1) // 2
            if render_size({"text": content[:mid]}) <= budget:
                low = mid
            else:
                high = mid - 1
        content = content[:low] + tail
    return Activity(type=ActivityTypes.message, text=content, text_format="markdown")


def _with_file(out: Activity, filename: str, content: str) -> Activity:
    """Attach the file as a data URL when the activity still fits Teams' limit; a bigger
    file goes only as text (see :func:`_file_as_text`)."""
    attachment = _file_attachment(filename, content)
    encoded = len(attachment.content_url or "")
    if render_size(out.serialize()) + encoded + 200 <= MAX_CARD_BYTES:
        out.attachments = [*(out.attachments or []), attachment]
    return out


class TeamsResponder:
    """Answers within one turn. For a card click (an invoke), a private answer becomes
    the invoke response card, which Teams shows to the clicking user only."""

    def __init__(self, ctx: TurnContext, adapter: CloudAdapter, app_id: str):
        self.ctx = ctx
        self.adapter = adapter
        self.app_id = app_id
        self.invoke_card: dict | None = None
        self.is_invoke = ctx.activity.type == ActivityTypes.invoke

    async def reply(self, msg: Message) -> MessageRef | None:
        activity = self.ctx.activity
        place = _place(activity)
        if msg.private and not place.is_direct:
            if self.is_invoke and self.invoke_card is None:
                self.invoke_card = render_card(msg)
                return None
            sender = activity.from_property.id if activity.from_property else ""
            await _send_personal(self.adapter, self.app_id, activity, sender, msg)
            return None
        out = _to_activity(msg)
        if msg.attachment:
            out = _with_file(out, *msg.attachment)
        resp = await self.ctx.send_activity(out)
        if msg.attachment:
            # Some Teams clients offer no download for a data-URL file, so the text also
            # goes in the conversation, where Teams renders its Markdown.
            await self.ctx.send_activity(_file_as_text(*msg.attachment))
        return MessageRef(place, resp.id) if resp is not None and resp.id else None

    async def update_original(self, msg: Message) -> None:
        reply_to = self.ctx.activity.reply_to_id
        if not reply_to:
            await self.reply(msg)
            return
        await self.ctx.update_activity(_to_activity(msg, id=reply_to))

    def invoke_response(self) -> InvokeResponse:
        if self.invoke_card is not None:
            body = {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": self.invoke_card}
        else:
            body = {
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": "Done",
            }
        return InvokeResponse(status=200, body=body)


def _action_from(activity: Activity) -> tuple[str, str, dict[str, str]] | None:
    """(action_id, value, form) from an Action.Execute invoke or an Action.Submit message."""
    value = activity.value
    if not isinstance(value, dict):
        return None
    if activity.type == ActivityTypes.invoke:
        action = _dict(value.get("action"))
        data = _dict(action.get("data"))
        verb = _text(action.get("verb")) or _text(data.get("action_id"))
    else:
        data = value
        verb = _text(data.get("action_id"))
    if not verb:
        return None
    form = {k: str(v) for k, v in data.items() if k not in ("action_id", "value")}
    field = _text(data.get("input"))
    choice = data.get(field) if field else None
    val = str(choice if choice is not None else data.get("value", ""))
    return verb, val, form


def _without_mention(activity: Activity) -> str:
    """The typed text without "@secbot", as botbuilder strips it; a mention entity of an
    odd shape leaves the text as it came rather than failing the turn."""
    if not activity.entities:
        return _text(activity.text)
    try:
        return _text(TurnContext.remove_recipient_mention(activity))
    except (AttributeError, TypeError, KeyError, ValueError):
        return _text(activity.text)


class UntrustedServiceUrl(Exception):
    """Development mode: the activity names a serviceUrl off this machine."""


def _unauthorised() -> web.Response:
    return web.json_response({"error": "unauthorised"}, status=401)


class TeamsFrontDoor:
    """``POST /api/messages``. With an app id, every activity needs a Bot Framework
    token checked by :mod:`bot.adapters.teams.auth`; without one (development mode
    only, see ``Settings.teams_enabled``) only a loopback serviceUrl is accepted.
    botbuilder gets an already-authenticated request, so it never fetches keys itself."""

    def __init__(self, settings, bot: Bot, db: Database, clock):
        config = SimpleNamespace(
            APP_ID=settings.microsoft_app_id or "",
            APP_PASSWORD=settings.microsoft_app_password or "",
            APP_TYPE=settings.microsoft_app_type,
            APP_TENANTID=settings.microsoft_app_tenant_id or "",
        )
        self.app_id = config.APP_ID
        credentials = NonBlockingCredentialsFactory(
            ConfigurationServiceClientCredentialFactory(config)
        )
        self.adapter = CloudAdapter(
            ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials)
        )
        self.adapter.on_turn_error = self._on_error
        self.bot = bot
        self.clock = clock
        self.conversations = ConversationStore(db)
        self.transport = TeamsTransport(self.adapter, self.conversations, self.app_id)
        self.keys: SigningKeys | None = None
        self.validator: TokenValidator | None = None
        if self.app_id:
            url = settings.botframework_openid_url
            self.keys = SigningKeys(url, timeout=settings.botframework_keys_timeout)
            tenant = (
                settings.microsoft_app_tenant_id
                if settings.microsoft_app_type == "SingleTenant"
                else None
            )
            self.validator = TokenValidator(self.keys, self.app_id, tenant)

    async def _on_error(self, ctx: TurnContext, error: Exception) -> None:
        log.error("teams turn failed: %s", type(error).__name__)

    async def _authenticate(
        self, authorization: str | None, body: dict[str, Any]
    ) -> AuthenticateRequestResult:
        """What botbuilder's ``authenticate_request`` would build, from our own checks.

        Raises TokenRejected (401), KeysUnavailable (503) or, in development mode,
        UntrustedServiceUrl (400)."""
        auth = self.adapter.bot_framework_authentication
        if self.validator is None:
            if not is_loopback_url(body["serviceUrl"]):
                raise UntrustedServiceUrl
            identity = ClaimsIdentity({}, True, AuthenticationConstants.ANONYMOUS_AUTH_TYPE)
            caller_id = None
        else:
            claims = await self.validator.validate(
                authorization, body.get("channelId"), body["serviceUrl"]
            )
            identity = ClaimsIdentity(claims, True)
            caller_id = CallerIdConstants.public_azure_channel
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = auth.get_originating_audience()
        result.caller_id = caller_id
        result.connector_factory = auth.create_connector_factory(identity)
        return result

    async def handle(self, request: web.Request) -> web.Response:
        body = await read_json_object(request)  # 415 or 400, with the reason, for junk
        try:
            body = check_envelope(body)
        except BadActivity as e:
            return web.json_response({"error": str(e)}, status=400)
        # Authenticate first, on its own, so only token problems can become a 401: an
        # error while handling the activity is a bug and must not be hidden as one.
        try:
            auth = await self._authenticate(request.headers.get("Authorization"), body)
        except TokenRejected as e:
            log.info("teams: refused a request: %s", e)
            return _unauthorised()
        except UntrustedServiceUrl:
            return web.json_response(
                {"error": "in development mode the serviceUrl must be a loopback address"},
                status=400,
            )
        except KeysUnavailable as e:
            return web.json_response(
                {"error": "the token can't be checked just now"},
                status=503,
                headers={"Retry-After": str(e.retry_after)},
            )
        try:
            activity = to_activity(body)
        except BadActivity as e:
            return web.json_response({"error": str(e)}, status=400)
        holder: dict[str, TeamsResponder | None] = {}
        failed: list[sqlite3.Error] = []

        async def logic(ctx: TurnContext) -> None:
            try:
                holder["r"] = await self.on_turn(ctx)
            except sqlite3.Error as e:
                failed.append(e)  # not for on_turn_error, which would answer 201 regardless

        try:
            await self.adapter.process_activity(auth, activity, logic)
        except OutboundTokenUnavailable as e:
            # Before the turn began (the connector client needs the token): nothing was
            # handled, so Teams can safely deliver it again.
            return web.json_response(
                {"error": "the bot can't sign in to reply just now"},
                status=503,
                headers={"Retry-After": str(e.retry_after)},
            )
        if failed:
            # The database can't be written: say so, rather than take the activity (201)
            # and lose it. The Bot Framework may send it again.
            log.error("teams: can't store an activity (%s)", type(failed[0]).__name__)
            return web.json_response(
                {"error": "secbot can't save this just now"},
                status=503,
                headers={"Retry-After": "5"},
            )
        responder = holder.get("r")
        if activity.type == ActivityTypes.invoke:
            resp = responder.invoke_response() if responder else InvokeResponse(200, {})
            return web.json_response(resp.body, status=resp.status)
        if activity.delivery_mode == "expectReplies":
            return web.json_response({"activities": []}, status=200)
        return web.Response(status=201)

    async def on_turn(self, ctx: TurnContext) -> TeamsResponder | None:
        activity = ctx.activity
        if activity.conversation and activity.service_url:
            # Reached only through handle(), after _authenticate: the serviceUrl is the
            # one the token named (or a loopback one in development mode).
            now = self.clock.now().isoformat()
            self.conversations.save(activity, now, "token" if self.validator else "development")
            self.conversations.remember_user(activity, now)
        responder = TeamsResponder(ctx, self.adapter, self.app_id)
        delivery = (
            f"teams:{activity.conversation.id if activity.conversation else ''}:{activity.id}"
        )
        place, actor = _place(activity), _actor(activity)
        if (
            activity.type == ActivityTypes.invoke
            and activity.name == "adaptiveCard/action"
            or (activity.type == ActivityTypes.message and isinstance(activity.value, dict))
        ):
            parsed = _action_from(activity)
            if parsed is None:
                return responder
            action_id, value, form = parsed
            ref = MessageRef(place, activity.reply_to_id) if activity.reply_to_id else None
            incoming = Incoming(
                actor=actor,
                place=place,
                kind="action",
                delivery_id=delivery,
                action_id=action_id,
                value=value,
                message=ref,
                form=form,
            )
        elif activity.type == ActivityTypes.message:
            text = _without_mention(activity)
            incoming = Incoming(
                actor=actor,
                place=place,
                kind="text",
                delivery_id=delivery,
                text=(text or "").strip(),
            )
        elif activity.type == ActivityTypes.conversation_update:
            await self._membership_changed(activity, responder, delivery)
            return responder
        else:
            return responder
        await self.bot.handle(incoming, responder)
        return responder

    async def _membership_changed(
        self, activity: Activity, responder: TeamsResponder, delivery: str
    ) -> None:
        """The bot was added (its conversation reference is already saved, for tips and
        pages later): say hello once. The bot was removed: stop sending there."""
        bot_id = activity.recipient.id if activity.recipient else None
        if not bot_id or not activity.conversation:
            return
        if any(m.id == bot_id for m in activity.members_removed or []):
            self.conversations.mark_inactive(activity.conversation.id)
            return
        if not any(m.id == bot_id for m in activity.members_added or []):
            return
        if not self.bot.first_time(delivery):
            return  # a retried delivery: the welcome has been sent
        await responder.reply(welcome_message(_place(activity)))
