"""The web chat: a third front door over the same core.

Two ways in. With a users file (``SECBOT_WEBCHAT_USERS_FILE``) each person sends
``Authorization: Bearer <their secret>`` and the server, not the request body, says who
they are. In development mode with no users file there are no accounts: the page names
its user, which is what lets ``make run`` work on a fresh machine.

Messages are kept in SQLite so a page reload, or a restart, shows the same
conversation. The page polls for new or updated messages; a private message is
stored with the one user allowed to see it.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import (
    Column,
    Index,
    Integer,
    Table,
    Text,
    func,
    insert,
    or_,
    select,
    update,
)

from bot import in_order
from bot.adapters.web.shares import Uploads, shared_incoming, upload_incoming
from bot.core import Bot, DeliveryFailed, Sighting
from bot.core.access import WebUser, bearer_secret, find_user, origin_allowed
from bot.core.inert import inert
from bot.core.model import Actor, FileRef, Incoming, Message, MessageRef, Place
from bot.http.json_body import read_json_object
from bot.render.web import render
from bot.settings import Settings
from bot.storage.retention import Pruner, delete_some
from bot.storage.sql import (
    DB_ERRORS,
    Db,
    UtcDateTime,
    atomic,
    execute,
    inserted_id,
    metadata,
    serialize,
)

if TYPE_CHECKING:
    from bot.core import Services

log = logging.getLogger(__name__)

webchat_messages = Table(
    "webchat_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation", Text, nullable=False),
    Column("visible_to", Text),
    Column("sender", Text, nullable=False),
    # Whose message it is (their web chat id), for a person's own messages; NULL for the
    # bot's and for messages kept before revision 0007. People's rights find them by it.
    Column("author", Text),
    Column("payload", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("webchat_messages_conv", "conversation", "version"),
    # Every post reads MAX(version); without this it scanned the whole table each time.
    Index("webchat_messages_version", "version"),
)

WORKSPACE = "local"
# Web chat history is kept SECBOT_WEBCHAT_RETENTION_DAYS (bot/settings/), then deleted
# by the daily prune (pruner below): it may hold incident details, and nobody needs it
# for ever.
_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # used with fullmatch: no trailing newline
# Message ids and versions: plain ASCII digits that fit SQLite's 64-bit integers.
_WHOLE = re.compile(r"[0-9]{1,18}")
# Message ids and versions are 32-bit integers in the database (PostgreSQL refuses a
# larger one in a query): a bigger number names no message.
MAX_ID = 2**31 - 1
MAX_TEXT = 2000
# Direct messages live in "dm-<user id>"; the page lists at most MAX_ROOMS rooms.
DM_PREFIX = "dm-"
MAX_ROOMS = 20
UNAVAILABLE = "secbot can't save messages just now. Please try again in a minute."


# Every change to a message takes the next version (one counter for all conversations):
# a page polls for versions after the last it saw, so two writers must never take the same
# one, and a version must never become visible after a higher one (the page would skip
# it). The version is worked out inside the writing statement, in a transaction that holds
# VERSIONS until it commits (SQLite's one write lock; an advisory lock on PostgreSQL,
# where two statements could otherwise both read the same MAX), so versions are taken and
# committed in order.
VERSIONS = "webchat_messages.version"
_NEXT_VERSION = select(
    func.coalesce(func.max(webchat_messages.c.version), 0) + 1
).scalar_subquery()


class WebChatStore:
    def __init__(self, db: Db):
        self.db = db

    async def add(
        self,
        conversation: str,
        sender: str,
        payload: dict,
        now: datetime,
        visible_to: str | None = None,
        author: str | None = None,
    ) -> int:
        new = insert(webchat_messages).values(
            conversation=conversation, visible_to=visible_to, sender=sender, author=author,
            payload=json.dumps(payload), version=_NEXT_VERSION, created_at=now,
        )  # fmt: skip
        async with atomic(self.db):
            await serialize(self.db, VERSIONS)
            return inserted_id(await execute(self.db, new))

    async def replace(self, message_id: int, conversation: str, payload: dict) -> bool:
        """Replace one of the bot's messages in ``conversation``; never a person's message
        or one from another conversation."""
        m = webchat_messages.c
        change = (
            update(webchat_messages)
            .where(m.id == message_id, m.conversation == conversation, m.sender == "bot")
            .values(payload=json.dumps(payload), version=_NEXT_VERSION)
        )
        async with atomic(self.db):
            await serialize(self.db, VERSIONS)
            return (await execute(self.db, change)).rowcount == 1

    async def has_button_message(self, message_id: int, conversation: str, user: str) -> bool:
        """Whether ``user`` can see a bot message with this id in ``conversation``, so a
        click on it may update it."""
        m = webchat_messages.c
        query = select(m.id).where(
            m.id == message_id,
            m.conversation == conversation,
            m.sender == "bot",
            or_(m.visible_to.is_(None), m.visible_to == user),
        )
        return (await execute(self.db, query)).first() is not None

    async def person_message(
        self, message_id: int, conversation: str
    ) -> tuple[dict, datetime] | None:
        """A person's message in ``conversation`` (its payload, with its id), and when it
        was sent: what "Add to incident timeline" copies."""
        m = webchat_messages.c
        query = select(m.payload, m.created_at).where(
            m.id == message_id, m.conversation == conversation, m.sender == "user"
        )
        row = (await execute(self.db, query)).first()
        if row is None:
            return None
        return {"id": message_id, **json.loads(row.payload)}, row.created_at

    async def rooms(self, limit: int = MAX_ROOMS) -> list[str]:
        """The rooms (not direct messages) that have messages, most recently used first:
        the page lists them, so a page sent to an incident room can be read there."""
        m = webchat_messages.c
        query = (
            select(m.conversation)
            .where(m.conversation.not_like(DM_PREFIX + "%"))
            .group_by(m.conversation)
            .order_by(func.max(m.id).desc())
            .limit(limit)
        )
        return list((await execute(self.db, query)).scalars())

    async def prune_some(self, before: datetime, limit: int) -> int:
        """Delete at most ``limit`` messages created before ``before``; returns how many.

        The message with the highest version is always kept: new versions count up from
        it, and a page polling with ``after`` must never see versions go backwards."""
        m = webchat_messages.c
        newest = select(func.max(m.version)).scalar_subquery()
        old = (m.created_at < before) & (m.version < newest)
        return await delete_some(self.db, webchat_messages, old, limit)

    async def since(self, conversation: str, user: str, after: int) -> list[dict]:
        m = webchat_messages.c
        query = (
            select(m.id, m.sender, m.payload, m.version, m.visible_to)
            .where(
                m.conversation == conversation,
                m.version > after,
                or_(m.visible_to.is_(None), m.visible_to == user),
            )
            .order_by(m.id)
        )
        return [
            {
                "id": r.id,
                "sender": r.sender,
                "version": r.version,
                "private": r.visible_to is not None,
                **json.loads(r.payload),
            }
            for r in (await execute(self.db, query)).all()
        ]


def conversation_place(conversation: str, user_id: str) -> Place:
    if conversation == "dm":
        return Place("web", WORKSPACE, f"{DM_PREFIX}{user_id}", is_direct=True)
    return Place("web", WORKSPACE, conversation, is_direct=False)


def room_name_ok(conversation: str) -> bool:
    """A conversation a page may name: "dm" (the person's own direct messages) or a room.
    Someone else's direct messages ("dm-<their id>") are never a room, so nobody can read
    or post in them by naming them."""
    return bool(_ID.fullmatch(conversation)) and not conversation.startswith(DM_PREFIX)


class WebTransport:
    platform = "web"
    finds_posts = False  # the local web chat's posts never stop half-way
    names_are_handles = False  # the users file's names

    def __init__(self, store: WebChatStore, clock, users: tuple[WebUser, ...] = ()):
        self.store = store
        self.clock = clock
        self.users = users
        self.uploads = Uploads()

    async def download(self, file: FileRef, limit: int) -> bytes | None:
        """An uploaded file's bytes (once: the web chat keeps no files)."""
        data = self.uploads.take(file.source)
        if data is None:
            raise DeliveryFailed("upload_gone", permanent=True)
        return None if len(data) > limit else data

    async def post(
        self, place: Place, msg: Message, *, key: str | None = None
    ) -> MessageRef | None:
        mid = await self.store.add(place.channel, "bot", render(msg), self.clock.now())
        return MessageRef(place, str(mid))

    async def find_posted(self, place: Place, key: str, since: datetime) -> Sighting:
        """Unknown: the web chat keeps no keys with its messages (a post is one local
        database write, which a crash either commits or not)."""
        return Sighting.unknown("web chat: posts carry no key")

    async def post_private(self, place: Place, actor: Actor, msg: Message) -> None:
        await self.store.add(
            place.channel,
            "bot",
            render(msg),
            self.clock.now(),
            visible_to=actor.user_id,
        )

    async def update(self, ref: MessageRef, msg: Message) -> None:
        await self.store.replace(int(ref.id), ref.place.channel, render(msg))

    # --- rooms and people: the web chat has no private rooms or threads -------------

    private_rooms = False

    def thread_under(self, ref: MessageRef) -> Place:
        return ref.place

    def direct_place(self, workspace: str, user_id: str) -> Place:
        return conversation_place("dm", user_id)

    async def open_room(self, origin: Place, name: str, people: list[str]) -> Place | None:
        return None

    async def invite(self, room: Place, people: list[str]) -> None:
        return None

    async def upload(self, place: Place, filename: str, content: str) -> MessageRef | None:
        """The web chat shows a file as a message with a download link."""
        return await self.post(place, Message(text=filename, attachment=(filename, content)))

    async def people(self, workspace: str) -> list[Actor]:
        """Everyone in the users file: the web chat's person picker lists them."""
        return [Actor("web", user.user_id, user.name) for user in self.users]

    async def lookup(
        self, workspace: str, user_id: str, where: Place | None = None
    ) -> Actor | None:
        """A person in the users file (signed-in web chat), by id, with their name."""
        for user in self.users:
            if user.user_id == user_id:
                return Actor("web", user.user_id, user.name)
        return None


class WebResponder:
    def __init__(
        self, transport: WebTransport, place: Place, actor: Actor, original: MessageRef | None
    ):
        self.transport = transport
        self.place = place
        self.actor = actor
        self.original = original

    async def reply(self, msg: Message) -> MessageRef | None:
        if msg.private and not self.place.is_direct:
            await self.transport.post_private(self.place, self.actor, msg)
            return None
        return await self.transport.post(self.place, msg)

    async def update_original(self, msg: Message) -> None:
        if self.original is None:
            await self.reply(msg)
        else:
            await self.transport.update(self.original, msg)


def _bad(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "error": reason}, status=status)


NO_SECRET = "Sign in first: paste the secret you were given for this web chat."
WRONG_SECRET = (
    "That secret wasn't recognised. Check it with whoever runs secbot and paste it again."
)
FOREIGN_ORIGIN = (
    "This request came from another website, so secbot refused it. "
    "Open the web chat from its own address."
)


def _signed_in(settings: Settings, request: web.Request) -> Actor | web.Response:
    """The person whose secret is in the Authorization header, or a friendly 401."""
    secret = bearer_secret(request.headers.get("Authorization"))
    user = find_user(settings.webchat_users, secret)
    if user is None:
        # Never the secret, nor whether one was close: only that a request was refused.
        log.info("web chat: refused a request without a recognised secret")
        return web.json_response(
            {"ok": False, "error": WRONG_SECRET if secret else NO_SECRET, "sign_in": True},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="secbot web chat"'},
        )
    return Actor("web", user.user_id, user.name)


def _message_id(text: str) -> int | None:
    """A web chat message id the page sent, if it could name one."""
    return int(text) if _WHOLE.fullmatch(text) and int(text) <= MAX_ID else None


def without_nul(value: Any) -> Any:
    """The page's JSON with every NUL character dropped from its text: nothing a person
    types needs one, and PostgreSQL refuses to store one."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def _named_in_request(user_id: str, name: str) -> Actor | None:
    """Development mode without accounts: the page says who it is."""
    if not _ID.fullmatch(user_id):
        return None
    return Actor("web", user_id, name[:64] or user_id)


# Scripts and styles come from this origin only, never inline, so even if some text did
# reach the page as markup it could not run. data: is for the report download link.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
    " img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
# URL path -> (file in bot/static, content type). Only these files are served.
STATIC = {
    "/": ("webchat.html", "text/html"),
    "/webchat/static/app.js": ("webchat.js", "text/javascript"),
    "/webchat/static/app.css": ("webchat.css", "text/css"),
}


def _static_route(path: str, filename: str, content_type: str) -> web.RouteDef:
    body = resources.files("bot").joinpath("static", filename).read_text(encoding="utf-8")

    async def serve(request: web.Request) -> web.Response:
        return web.Response(
            text=body, content_type=content_type, charset="utf-8", headers=SECURITY_HEADERS
        )

    return web.get(path, serve)


def webchat_routes(bot: Bot, store: WebChatStore, transport: WebTransport, clock) -> list:
    settings = bot.services.settings
    # Messages and clicks in one conversation are handled in the order they came in; other
    # conversations' meanwhile (bot/in_order.py).
    lanes = in_order.Lanes()

    async def send(request: web.Request) -> web.Response:
        origin = request.headers.get("Origin")
        if origin is not None and not origin_allowed(origin, settings.host_allow_list):
            return _bad(FOREIGN_ORIGIN, 403)
        signed_in: Actor | None = None
        if settings.webchat_authenticated:
            who = _signed_in(settings, request)
            if isinstance(who, web.Response):
                return who
            signed_in = who
        data = without_nul(await read_json_object(request))
        try:
            return await _send(data, signed_in)
        except DB_ERRORS as e:
            # The database can't be written (full disk, read-only, locked by another
            # process). Nothing was half-done that matters: the page can send it again.
            log.error("web chat: can't store a message (%s)", type(e).__name__)
            return _bad(UNAVAILABLE, 503)

    async def _send(data: dict, signed_in: Actor | None) -> web.Response:
        conversation = str(data.get("conversation", ""))
        request_id = str(data.get("request_id", ""))
        actor = signed_in or _named_in_request(
            str(data.get("user_id", "")), str(data.get("name", ""))
        )
        if actor is None or not room_name_ok(conversation) or not _ID.fullmatch(request_id):
            return _bad("user_id, conversation and request_id must be short plain identifiers.")
        user_id = actor.user_id
        place = conversation_place(conversation, user_id)
        now = clock.now()
        delivery = f"web:{user_id}:{request_id}"
        shown: dict | None = None  # what the others in the conversation see of it
        if "text" in data:
            text = str(data["text"]).strip()
            if not text:
                return _bad("Type a message first.")
            if len(text) > MAX_TEXT:
                return _bad(f"That message is too long: keep it under {MAX_TEXT} characters.")
            # Others in the conversation see it too: shown inert, like everything sent out.
            # Stored once the core knows the delivery is new, before the bot answers.
            shown = {"text": inert(text), "name": actor.name, "blocks": []}
            incoming = Incoming(
                actor=actor, place=place, kind="text", delivery_id=delivery, text=text
            )
            original = None
        elif isinstance(data.get("action"), dict):
            action = data["action"]
            action_id = str(action.get("action_id", ""))
            if not action_id or len(action_id) > 200:
                return _bad("The button click has no action id.")
            mid = str(action.get("message_id", ""))
            original = MessageRef(place, mid) if _message_id(mid) is not None else None
            if original is not None and not await store.has_button_message(
                int(mid), place.channel, user_id
            ):
                return _bad(
                    "That button isn't on a message in this conversation. Reload the page and"
                    " try again."
                )
            form = action.get("form") if isinstance(action.get("form"), dict) else {}
            incoming = Incoming(
                actor=actor,
                place=place,
                kind="action",
                delivery_id=delivery,
                action_id=action_id,
                value=str(action.get("value", "")),
                message=original,
                form={str(k): str(v) for k, v in form.items()},
            )
        elif isinstance(data.get("share"), dict):
            # "Add to incident timeline" on a person's message in this conversation.
            mid = str(data["share"].get("message_id", ""))
            found = (
                await store.person_message(int(mid), place.channel)
                if _message_id(mid) is not None
                else None
            )
            if found is None:
                return _bad("That message isn't in this conversation. Reload the page.")
            incoming = shared_incoming(actor, place, delivery, found[0], found[1])
            original = None
        elif isinstance(data.get("upload"), dict):
            made = upload_incoming(actor, place, delivery, data["upload"], transport.uploads)
            if isinstance(made, str):
                return _bad(made)
            incoming, original = made, None
            shown = {"text": f"Shared a file: {made.files[0].name}", "name": actor.name,
                     "blocks": []}  # fmt: skip
        else:
            return _bad("Send text, an action, a message to share or a file.")
        responder = WebResponder(transport, place, actor, original)

        async def echo(shown: dict = shown or {}) -> None:
            await store.add(place.channel, "user", shown, now, author=user_id)

        accepted = echo if shown else None
        async with lanes.turn(f"web:{place.workspace}:{place.channel}"):
            handled = await bot.handle(incoming, responder, on_accept=accepted)
        if not handled:
            return web.json_response({"ok": True, "repeat": True})
        return web.json_response({"ok": True})

    async def messages(request: web.Request) -> web.Response:
        if settings.webchat_authenticated:
            signed_in = _signed_in(settings, request)
            if isinstance(signed_in, web.Response):
                return signed_in
            user_id = signed_in.user_id
        else:
            user_id = request.query.get("user_id", "")
        conversation = request.query.get("conversation", "")
        if not _ID.fullmatch(user_id) or not room_name_ok(conversation):
            return _bad("user_id and conversation are required.")
        after_text = request.query.get("after", "0")
        if not _WHOLE.fullmatch(after_text):
            return _bad("after must be a number.")
        after = min(int(after_text), MAX_ID)  # nothing is ever newer than the largest
        place = conversation_place(conversation, user_id)
        messages = await store.since(place.channel, user_id, after)
        return web.json_response({"messages": messages, "rooms": await store.rooms()})

    async def whoami(request: web.Request) -> web.Response:
        """How the page should sign in, and who the secret belongs to."""
        if not settings.webchat_authenticated:
            return web.json_response({"ok": True, "sign_in": "none"})
        signed_in = _signed_in(settings, request)
        if isinstance(signed_in, web.Response):
            return signed_in
        return web.json_response(
            {
                "ok": True,
                "sign_in": "secret",
                "user_id": signed_in.user_id,
                "name": signed_in.name,
            }
        )

    return [
        *(_static_route(path, name, ctype) for path, (name, ctype) in STATIC.items()),
        web.post("/webchat/api/send", send),
        web.get("/webchat/api/messages", messages),
        web.get("/webchat/api/whoami", whoami),
    ]


def retention(services: Services) -> timedelta:
    """SECBOT_WEBCHAT_RETENTION_DAYS, checked at start-up (1 to 3650 days)."""
    return timedelta(days=services.settings.webchat_retention_days)


def pruner(store: WebChatStore, keep: timedelta) -> Pruner:
    """For the daily prune (:mod:`bot.storage.retention`): messages older than ``keep``.
    It runs whether or not the web chat is served, so history left from an earlier run
    is pruned too."""
    return Pruner("web chat messages", keep, store.prune_some)
