"""The Teams front door: botbuilder's ``CloudAdapter`` on ``POST /api/messages``.

A message activity is kept and acknowledged (202) at once and replied to later through
the Bot Connector (``bot/adapters/teams/intake.py``); an invoke, whose answer is the HTTP
response, and an ``expectReplies`` delivery are handled while the request is open.

We call ``process_activity`` ourselves instead of ``CloudAdapter.process`` because
the latter answers 500 to invoke activities whose body is a plain dict, raises a
KeyError without a Content-Type, and turns a bad token into a 500 (see
platform-notes). Teams has no slash commands, so typed text is parsed by the core.
"""


from __future__ import annotations

import logging
from dataclasses import replace
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
    CallerIdConstants,
)
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
)

from bot.adapters.teams.auth import (
    KeysUnavailable,
    SigningKeys,
    TokenRejected,
    TokenValidator,
    is_loopback_url,
)
from bot.adapters.teams.credentials import NonBlockingCredentialsFactory, OutboundTokenUnavailable
from bot.adapters.teams.extension import SUBMIT_ACTION, shared_files, shared_message
from bot.adapters.teams.intake import TeamsIntake, Unusable
from bot.adapters.teams.kept import DEVELOPMENT, TOKEN, TRUST, KeptActivities
from bot.adapters.teams.request import BadActivity, check_envelope, to_activity
from bot.adapters.teams.responder import TeamsResponder
from bot.adapters.teams.store import ConversationStore
from bot.adapters.teams.translate import (
    action_from,
    actor_of,
    person_mentions,
    place_of,
    without_mention,
)
from bot.adapters.teams.transport import TeamsTransport
from bot.commands.help import welcome_message
from bot.core import Bot
from bot.core.model import Incoming, MessageRef
from bot.http.json_body import read_json_object
from bot.storage.sql import DB_ERRORS, Db, atomic

log = logging.getLogger(__name__)


class UntrustedServiceUrl(Exception):
    """Development mode: the activity names a serviceUrl off this machine."""


def _unauthorised() -> web.Response:
    return web.json_response({"error": "unauthorised"}, status=401)


# The channels this door serves. Microsoft's signing keys are endorsed for the Azure
# Bot's other channels too (Web Chat and Direct Line are on by default), where the
# client chooses ``from`` and ``channelData``: a valid token from one of those would
# let anyone pose as any Teams user of any tenant. The Bot Framework Emulator's own
# channel is for development mode only, where there is no token at all.
TEAMS_CHANNEL = "msteams"
EMULATOR_CHANNEL = "emulator"


def _not_teams() -> web.Response:
    return web.json_response(
        {"error": "secbot answers Microsoft Teams only, not this channel"}, status=403
    )


def keeps(body: dict[str, Any]) -> bool:
    """Whether an (authenticated) activity is kept and answered at once: a message,
    unless the caller asked for the replies in the HTTP response (``expectReplies``)."""
    return body["type"] == ActivityTypes.message and body.get("deliveryMode") != "expectReplies"


class TeamsFrontDoor:
    """``POST /api/messages``. With an app id, every activity needs a Bot Framework
    token checked by :mod:`bot.adapters.teams.auth`; without one (development mode
    only, see ``Settings.teams_enabled``) only a loopback serviceUrl is accepted.
    botbuilder gets an already-authenticated request, so it never fetches keys itself."""

    def __init__(self, settings, bot: Bot, db: Db, clock):
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
        self.transport = TeamsTransport(self.adapter, self.conversations, self.app_id, clock)
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
        self.intake = TeamsIntake(
            KeptActivities(db),
            self.conversations,
            self.run_kept,
            clock,
            bot.services.instance,
            max_attempts=settings.dead_letter_attempts,
        )

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
        served = (TEAMS_CHANNEL,) if self.validator else (TEAMS_CHANNEL, EMULATOR_CHANNEL)
        if body.get("channelId") not in served:
            log.info("teams: refused an activity from a channel other than Teams")
            return _not_teams()
        if keeps(body):
            # Kept as it came; botbuilder's model of it (a third of a millisecond of
            # msrest) is built by the consumer, off the acknowledging path.
            return await self._keep(await request.read())
        try:
            activity = to_activity(body)
        except BadActivity as e:
            return web.json_response({"error": str(e)}, status=400)
        holder: dict[str, TeamsResponder | None] = {}
        failed: list[Exception] = []

        async def logic(ctx: TurnContext) -> None:
            try:
                holder["r"] = await self.on_turn(ctx, self._trust())
            except DB_ERRORS as e:
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

    def _trust(self) -> str:
        """How this configuration vouches for an authenticated caller's serviceUrl."""
        return "token" if self.validator else "development"

    async def _keep(self, raw: bytes) -> web.Response:
        """Keep an authenticated message activity, then answer 202 with no body."""
        try:
            await self.intake.keep(TOKEN if self.validator else DEVELOPMENT, raw.decode())
        except DB_ERRORS as e:
            # Not kept, so not acknowledged: the Bot Framework sends it again.
            log.error("teams: can't keep an activity (%s)", type(e).__name__)
            return web.json_response(
                {"error": "secbot can't save this just now"},
                status=503,
                headers={"Retry-After": "5"},
            )
        return web.Response(status=202)

    async def run_kept(self, body: dict[str, Any], kind: str, replay: bool) -> None:
        """Handle a kept message activity (the intake calls this): its replies go to
        the serviceUrl it was kept with, and only if this configuration still vouches
        for it the way it was vouched for then (a token, or loopback with no app id).
        Raises Unusable for one that can never be handled, anything else to retry."""
        trust = TRUST.get(kind)
        if trust is None or trust != self._trust():
            raise Unusable("kept under another configuration")
        auth = self.adapter.bot_framework_authentication
        if trust == "development":
            if not is_loopback_url(body.get("serviceUrl")):
                raise Unusable("not a loopback serviceUrl")
            identity = ClaimsIdentity({}, True, AuthenticationConstants.ANONYMOUS_AUTH_TYPE)
            caller_id = None
        else:
            # What a proactive post uses (CloudAdapter.continue_conversation): the bot's
            # own app id; the serviceUrl was named by a valid token when it was kept.
            identity = self.adapter.create_claims_identity(self.app_id)
            caller_id = CallerIdConstants.public_azure_channel
        try:
            activity = to_activity(body)
        except BadActivity as e:
            raise Unusable(str(e)) from None
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = auth.get_originating_audience()
        result.caller_id = caller_id
        result.connector_factory = auth.create_connector_factory(identity)
        failed: list[Exception] = []

        async def logic(ctx: TurnContext) -> None:
            try:
                await self.on_turn(ctx, trust, replay=replay, acknowledged=True)
            except Exception as e:  # noqa: BLE001 - raised below, not to on_turn_error
                failed.append(e)

        await self.adapter.process_activity(result, activity, logic)
        if failed:
            raise failed[0]

    async def on_turn(
        self, ctx: TurnContext, trust: str, *, replay: bool = False, acknowledged: bool = False
    ) -> TeamsResponder | None:
        activity = ctx.activity
        if activity.conversation and activity.service_url:
            # Reached only after _authenticate (or from a row kept after it): the
            # serviceUrl is the one the token named (or a loopback one in development).
            if acknowledged:  # from the inbox: one commit with other handlers' writes
                await self.intake.remember(activity, trust)
            else:
                now = self.clock.now()
                async with atomic(self.conversations.db):  # one commit for both
                    await self.conversations.save(activity, now, trust)
                    await self.conversations.remember_user(activity, now)
        responder = TeamsResponder(ctx, self.adapter, self.app_id)
        delivery = (
            f"teams:{activity.conversation.id if activity.conversation else ''}:{activity.id}"
        )
        place, actor = place_of(activity), actor_of(activity)
        if activity.type == ActivityTypes.invoke and activity.name == SUBMIT_ACTION:
            found = shared_message(activity)
            if found is None:
                return responder
            command, shared = found
            incoming = Incoming(
                actor=actor, place=place, kind="action", delivery_id=delivery,
                action_id=command, shared=shared,
            )  # fmt: skip
        elif (
            activity.type == ActivityTypes.invoke
            and activity.name == "adaptiveCard/action"
            or (activity.type == ActivityTypes.message and isinstance(activity.value, dict))
        ):
            parsed = action_from(activity)
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
        elif activity.type == ActivityTypes.message and (files := shared_files(activity)):
            # Files (in a personal chat): kept as evidence if it is an incident's room.
            incoming = Incoming(
                actor=actor, place=place, kind="files", delivery_id=delivery, files=files
            )
        elif activity.type == ActivityTypes.message:
            text, mentions = person_mentions(activity, without_mention(activity))
            incoming = Incoming(
                actor=actor,
                place=place,
                kind="text",
                delivery_id=delivery,
                text=(text or "").strip(),
                mentions=mentions,
            )
        elif activity.type == ActivityTypes.conversation_update:
            await self._membership_changed(activity, responder, delivery)
            return responder
        else:
            return responder
        if acknowledged:  # answered already: nothing waits for this handler to finish
            incoming = replace(incoming, acknowledged=True)
        await self.bot.handle(incoming, responder, replay=replay)
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
            await self.conversations.mark_inactive(activity.conversation.id)
            return
        if not any(m.id == bot_id for m in activity.members_added or []):
            return
        if not await self.bot.first_time(delivery):
            return  # a retried delivery: the welcome has been sent
        await responder.reply(welcome_message(place_of(activity)))
