"""Posting to Teams outside a delivery (the neutral transport operations), and the
pieces a reply shares with it: a personal chat, a file as an attachment."""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from typing import Any, NamedTuple

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
)
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.models import ErrorResponseException

from bot.adapters.teams.auth import (
    is_loopback_url,
)
from bot.adapters.teams.credentials import OutboundTokenUnavailable
from bot.adapters.teams.file_parts import is_data_file, parts
from bot.adapters.teams.store import ConversationStore
from bot.adapters.teams.translate import tenant_of
from bot.core import WORKSPACE, DeliveryFailed, Sighting
from bot.core.model import Actor, FileRef, Message, MessageRef, Place
from bot.http.download import fetch_at_most
from bot.render.teams import MAX_CARD_BYTES, render_activity
from bot.render.teams import size as render_size

log = logging.getLogger(__name__)


def to_activity_of(msg: Message, **extra: Any) -> Activity:
    body = render_activity(msg)
    return Activity().deserialize({**body, **extra})


class TeamsTransport:
    """Proactive messages through stored conversation references."""

    platform = "teams"
    finds_posts = False  # the Bot Connector gives a bot no conversation history
    names_are_handles = False  # activities carry the display name

    def __init__(self, adapter: CloudAdapter, store: ConversationStore, app_id: str, clock):
        self.adapter = adapter
        self.store = store
        self.app_id = app_id
        self.clock = clock  # when a 1:1 chat secbot opened is kept (see _open_direct)

    def _trusted(self, ref: ConversationReference, trust: str | None) -> bool:
        """Call only a serviceUrl a validated token named (or, with no app id, loopback).

        Rows kept before trust was recorded are used only for an https serviceUrl when
        the bot has an app id: open mode only ever kept the Emulator's http://localhost."""
        if not self.app_id:
            return is_loopback_url(ref.service_url)
        if trust == "token":
            return True
        return trust is None and (ref.service_url or "").lower().startswith("https://")

    async def _continue(self, conversation_id: str, fn, *, own: bool = True, stored=None) -> Any:
        """Run ``fn`` in the stored conversation (``stored``: its row, if already read).
        ``own``: a 403 or 404 is the conversation's (the bot was removed from it), not a
        1:1 chat's opened through it."""
        stored = stored or await self.store.get(conversation_id)
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
                # This conversation blocked or removed the bot (or no longer exists); or
                # the person a 1:1 chat was for did (``own`` False): the channel is fine.
                if own:
                    await self.store.mark_inactive(conversation_id)
                raise DeliveryFailed(f"teams {status}", permanent=True) from None
            retry = None
            if status == 429:
                retry = float(e.response.headers.get("Retry-After", "1") or 1)
            raise DeliveryFailed(f"teams {status}", retry_after=retry) from None
        return result.get("value")

    async def download(self, file: FileRef, limit: int) -> bytes | None:
        """A file attached in Teams, from the pre-authorised download URL Teams gave
        (checked by the door: https, or the activity's own serviceUrl host). No token
        is sent: the URL itself is the permission."""
        return await fetch_at_most(None, file.source, limit)

    async def post(
        self, place: Place, msg: Message, *, key: str | None = None
    ) -> MessageRef | None:
        """Send to the conversation. ``key`` is not sent: nothing could read it back.

        A direct place names a person, not a conversation: with no conversation kept
        under that id, their 1:1 chat is opened through one of the tenant's (see
        :meth:`_open_direct`); the message is then in that chat, named by its own id
        (kept, so an update of the message finds it)."""
        stored = await self.store.get(place.channel) if place.is_direct else None
        if place.is_direct and stored is None:
            opened = await self._open_direct(place, msg)
            chat = Place("teams", place.workspace, opened.conversation_id, is_direct=True)
            return MessageRef(chat, opened.message_id) if opened.message_id else None

        async def send(ctx: TurnContext):
            return await ctx.send_activity(to_activity_of(msg))

        resp = await self._continue(place.channel, send, stored=stored)
        return MessageRef(place, resp.id) if resp is not None and resp.id else None

    async def find_posted(self, place: Place, key: str, since: datetime) -> Sighting:
        """Always unknown: the Bot Connector lets a bot send, update and delete its
        activities and list a conversation's members, but not read a conversation's
        messages (Microsoft Graph's channel messages are a separate, protected API with
        permissions of their own). So a post cut off in the middle is never re-sent."""
        return Sighting.unknown("teams: a bot can't read a conversation's history")

    async def post_private(self, place: Place, actor: Actor, msg: Message) -> None:
        # Teams has no ephemeral messages: a private post goes to the person's 1:1 chat.
        await self._personal(place.channel, actor.user_id, msg)

    async def _personal(self, conversation_id: str, user_id: str, msg: Message) -> Opened:
        """Open (or reopen) ``user_id``'s 1:1 chat through a stored conversation, the
        one way secbot starts a chat with someone. The conversation's reference names
        whoever spoke last, so the member is named: by Teams id when they have written to
        the bot, else by the Entra object id, which the Bot Connector takes too."""
        member = await self.store.teams_id(user_id) or user_id

        async def send(ctx: TurnContext) -> Opened:
            return await send_personal(self.adapter, self.app_id, ctx.activity, member, msg)

        return await self._continue(conversation_id, send, own=False)

    async def _open_direct(self, place: Place, msg: Message) -> Opened:
        """A message to someone secbot has no conversation with (an owner who never wrote
        to it, reached by a quarterly review or a reminder with no command behind it):
        their 1:1 chat, opened through the newest conversation of the same tenant that
        the bot is still in and whose serviceUrl is trusted (Bot Framework's proactive
        pattern). Never one of another tenant: the place's workspace is the tenant id,
        and the reference's own tenant must agree. Only a conversation a validated token
        vouched for (or, with no app id, a loopback one in development): a row kept
        before trust was recorded answers to a command but opens no one's chat. Refused
        quietly (the caller logs). The chat opened is kept, with the trust of the one it
        was opened through, so the message can be updated (a page acknowledged)."""
        for conversation_id, ref, trust in await self.store.of_tenant(place.workspace):
            tenant = ref.conversation.tenant_id if ref.conversation is not None else None
            vouched = trust == "token" if self.app_id else self._trusted(ref, trust)
            if tenant == place.workspace and vouched:
                opened = await self._personal(conversation_id, place.channel, msg)
                if await self.store.get(opened.conversation_id) is None:
                    await self.store.save(opened.activity, self.clock.now(), trust or "")
                return opened
        raise DeliveryFailed("no conversation reference", permanent=True)

    async def update(self, ref: MessageRef, msg: Message) -> None:
        async def upd(ctx: TurnContext):
            await ctx.update_activity(to_activity_of(msg, id=ref.id))

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
        if is_data_file(filename):
            return await self._upload_parts(place, filename, content)
        msg = Message(text=filename, attachment=(filename, content))

        async def send(ctx: TurnContext):
            out = with_file(to_activity_of(msg), filename, content)
            if not out.attachments:  # too big to carry: say so rather than drop it quietly
                out.text = too_big(filename, content)
            resp = await ctx.send_activity(out)
            if file_type(filename) == "text/markdown":  # HTML is no use as a message
                await ctx.send_activity(file_as_text(filename, content))
            return resp

        resp = await self._continue(place.channel, send)
        return MessageRef(place, resp.id) if resp is not None and resp.id else None

    async def _upload_parts(self, place: Place, filename: str, content: str) -> MessageRef | None:
        """A data file (an export, an audit log) in as many messages as it needs
        (``file_parts``): one when it fits."""
        files = parts(filename, content)

        async def send(ctx: TurnContext):
            first = None
            for n, (name, text) in enumerate(files, 1):
                said = (
                    name
                    if len(files) == 1
                    else f"{name}: part {n} of {len(files)}, join them in order"
                )
                msg = Message(text=said, attachment=(name, text))
                resp = await ctx.send_activity(with_file(to_activity_of(msg), name, text))
                first = first or resp
            return first

        resp = await self._continue(place.channel, send)
        return MessageRef(place, resp.id) if resp is not None and resp.id else None

    async def people(self, workspace: str) -> list[Actor]:
        """Teams has a people picker of its own (the directory): no list needed."""
        return []

    async def lookup(
        self, workspace: str, user_id: str, where: Place | None = None
    ) -> Actor | None:
        """The person in the roster of the conversation ``where`` (the Bot Connector's
        conversation members, which takes an Entra object id as well as a Teams id);
        else someone who has talked to the bot, known by id without a stored name."""
        if where is not None and where.platform == "teams" and user_id:

            async def member(ctx: TurnContext) -> Any:
                try:
                    connector = ctx.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]
                    conversation = ctx.activity.conversation.id
                    return await connector.conversations.get_conversation_member(
                        conversation, user_id
                    )
                except Exception as e:  # noqa: BLE001 - not in the roster, or no access
                    log.info("teams: roster lookup failed (%s)", type(e).__name__)
                    return None

            try:
                found = await self._continue(where.channel, member)
            except DeliveryFailed:
                found = None
            if found is not None and getattr(found, "name", None):
                # Keyed as Teams actors are: by Entra object id when the roster gives one
                # (a Teams id from an @mention comes back as the person's object id).
                aad = getattr(found, "aad_object_id", None)
                return Actor(
                    "teams", aad if isinstance(aad, str) and aad else user_id, str(found.name)
                )
        return Actor("teams", user_id, "") if await self.store.teams_id(user_id) else None


class Opened(NamedTuple):
    """A 1:1 chat :func:`send_personal` opened and the message it sent there."""

    activity: Activity  # the adapter's record of the new conversation (its reference)
    message_id: str | None

    @property
    def conversation_id(self) -> str:
        return self.activity.conversation.id


async def send_personal(
    adapter: CloudAdapter, app_id: str, activity: Activity, member_id: str, msg: Message
) -> Opened:
    """Open (or reopen: Teams returns the same one) the 1:1 chat with ``member_id``, in
    the activity's tenant (Teams refuses to create a conversation without one).

    Raises what sending there raised (an ErrorResponseException for a refusal): the
    adapter runs ``send`` inside a turn of its own, whose errors would otherwise go to
    on_turn_error (which only logs), and a failed message would look delivered."""
    tenant = tenant_of(activity) or None
    params = ConversationParameters(
        is_group=False,
        bot=activity.recipient,
        members=[ChannelAccount(id=member_id)],
        tenant_id=tenant,
        channel_data={"tenant": {"id": tenant}} if tenant else None,
    )

    result: dict[str, Any] = {}

    async def send(ctx: TurnContext) -> None:
        result["activity"] = ctx.activity
        try:
            resp = await ctx.send_activity(to_activity_of(msg))
            result["id"] = resp.id if resp is not None else None
        except Exception as e:  # noqa: BLE001 - re-raised below, outside the turn
            result["error"] = e

    await adapter.create_conversation(
        app_id, send, params, activity.channel_id, activity.service_url
    )
    if "error" in result:
        raise result["error"]
    return Opened(result["activity"], result.get("id") or None)


def file_type(filename: str) -> str:
    """The file's media type from its name: a report goes as Markdown and as HTML, an
    export as JSON or CSV."""
    for ending, kind in _FILE_TYPES.items():
        if filename.lower().endswith(ending):
            return kind
    return "text/markdown"


_FILE_TYPES = {".html": "text/html", ".json": "application/json", ".csv": "text/csv"}


def file_attachment(filename: str, content: str) -> Attachment:
    """A text file carried in the message itself, as a data URL."""
    encoded = base64.b64encode(content.encode("utf-8")).decode("ascii")
    kind = file_type(filename)
    return Attachment(
        content_type=kind, name=filename, content_url=f"data:{kind};base64,{encoded}"
    )


def file_as_text(filename: str, content: str) -> Activity:
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


def too_big(filename: str, content: str) -> str:
    """What a person is told when a file can't go in a Teams message (Teams carries a file
    in the message, and a message over about 26 KB is refused)."""
    kb = -(-len(content.encode("utf-8")) // 1000)
    return (
        f"{filename} is {kb} KB, too big to attach in Teams (a Teams message carries about "
        f"{MAX_CARD_BYTES // 1000} KB), so it is not attached here."
    )


def with_file(out: Activity, filename: str, content: str) -> Activity:
    """Attach the file as a data URL when the activity still fits Teams' limit; a bigger
    file goes only as text (see :func:`_file_as_text`)."""
    attachment = file_attachment(filename, content)
    encoded = len(attachment.content_url or "")
    if render_size(out.serialize()) + encoded + 200 <= MAX_CARD_BYTES:
        out.attachments = [*(out.attachments or []), attachment]
    return out
