"""The platform-neutral core: turns an :class:`Incoming` into handler calls.

Adapters build an ``Incoming`` and a turn-scoped :class:`Responder`; the core
de-duplicates the delivery, finds the command or action, and runs the handler.
Handlers only ever see a :class:`Turn`, never a Slack or Teams object.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.model import Actor, Incoming, Message, MessageRef, Place, Section, message
from bot.core.registry import Registry
from bot.core.tenancy import allow_list

if TYPE_CHECKING:
    from sqlite_utils import Database

    from bot.core.clock import Clock
    from bot.settings import Settings

log = logging.getLogger(__name__)


class Responder(Protocol):
    """How a handler answers within one delivery; each adapter implements it."""

    async def reply(self, msg: Message) -> MessageRef | None:
        """Post in the same place; ``msg.private`` shows it to the actor only."""

    async def update_original(self, msg: Message) -> None:
        """Replace the message the button was on."""


class Transport(Protocol):
    """How the core reaches a place outside any delivery (tips, closing a quiz)."""

    platform: str

    async def post(self, place: Place, msg: Message) -> MessageRef | None: ...

    async def post_private(self, place: Place, actor: Actor, msg: Message) -> None: ...

    async def update(self, ref: MessageRef, msg: Message) -> None: ...

    # Rooms and people, for domains that work in a room of their own (incidents, paging).
    private_rooms: bool  # True when open_room can make a private room

    def thread_under(self, ref: MessageRef) -> Place:
        """Where replies to this message go (its thread, or the same conversation)."""
        ...

    def direct_place(self, workspace: str, user_id: str) -> Place:
        """A direct conversation with one person."""
        ...

    async def open_room(self, origin: Place, name: str, people: list[str]) -> Place | None:
        """A private room with ``people`` (actor keys) in it; None when it can't."""
        ...

    async def invite(self, room: Place, people: list[str]) -> None:
        """Add ``people`` (actor keys) to a room; those it can't add are left out."""
        ...


CHANNEL, WORKSPACE = "channel", "workspace"


class DeliveryFailed(Exception):
    """A proactive post failed. ``permanent`` means the place is gone or blocked us.

    ``scope`` says how far the failure reaches, decided by the transport that knows the
    platform's errors: ``channel`` (this conversation only: archived, bot removed) or
    ``workspace`` (the bot's credentials or access were refused for the whole Slack
    workspace or Teams tenant, so every other channel there would fail the same way)."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        scope: str = CHANNEL,
    ):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.scope = scope


@dataclass
class Services:
    """What every handler may use; built once by the app factory."""

    settings: Settings
    db: Database
    clock: Clock
    registry: Registry
    transports: dict[str, Transport] = field(default_factory=dict)
    content: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    def is_admin(self, actor: Actor) -> bool:
        admins = self.settings.admins
        return actor.user_id in admins or actor.key in admins


@dataclass
class Turn:
    """One delivery as a handler sees it."""

    incoming: Incoming
    services: Services
    responder: Responder

    @property
    def actor(self) -> Actor:
        return self.incoming.actor

    @property
    def place(self) -> Place:
        return self.incoming.place

    @property
    def args(self) -> str:
        return self.incoming.args

    async def reply(self, msg: Message | str, *, private: bool = False) -> MessageRef | None:
        if isinstance(msg, str):
            msg = message(msg, Section(msg), private=private)
        elif private and not msg.private:
            msg = replace(msg, private=True)
        return await self.responder.reply(msg)

    async def update_original(self, msg: Message) -> None:
        await self.responder.update_original(msg)


# Middleware wraps the router: ``async def mw(turn, call_next)`` may refuse a turn, or
# call ``await call_next(turn)`` to pass it on. Cross-cutting rules (the workspace
# allow-lists in ``bot.core.tenancy``) live here, so no feature or adapter can forget them.
Next = Callable[["Turn"], Awaitable[None]]
Middleware = Callable[["Turn", Next], Awaitable[None]]


APOLOGY = "Sorry, something went wrong on our side. Please try again in a moment."

_MENTION = re.compile(r"^\s*(?:<@[A-Z0-9]+>|@?secbot\b)[\s:,]*", re.IGNORECASE)


def parse_text(text: str) -> tuple[str, str]:
    """Split ``/quiz 10m``, ``quiz 10m`` and ``@secbot quiz 10m`` into (command, args)."""
    text = _MENTION.sub("", text or "", count=1).strip()
    if not text:
        return "", ""
    head, _, rest = text.partition(" ")
    return head.lstrip("/").lower(), rest.strip()


class Bot:
    """Routes deliveries to handlers. One instance serves every front door."""

    def __init__(self, services: Services):
        self.services = services
        self.registry = services.registry
        self.middleware: list[Middleware] = [allow_list(services.settings)]

    def _chain(self) -> Next:
        """The router wrapped in the middleware, the first in the list outermost."""
        call: Next = self._route
        for mw in reversed(self.middleware):

            async def step(turn: Turn, mw: Middleware = mw, inner: Next = call) -> None:
                await mw(turn, inner)

            call = step
        return call

    async def handle(
        self, incoming: Incoming, responder: Responder, *, replay: bool = False
    ) -> None:
        """Route one delivery, once.

        ``replay`` is for a delivery a dead process acknowledged but may not have finished:
        it is handled even if already claimed, and the features' own uniqueness rules
        (one answer per person per question, one tip per channel per day) stop a repeat.
        """
        svc = self.services
        claimed = (
            svc.extras["deliveries"].claim(incoming.delivery_id, svc.clock.now())
            if incoming.delivery_id
            else True
        )
        if not claimed and not replay:
            log.info("ignoring repeated delivery %s", incoming.delivery_id)
            return
        turn = Turn(incoming, svc, responder)
        try:
            await self._chain()(turn)
        except Exception as failure:
            # Never log message text: it may hold personal data or secrets.
            log.exception(
                "handler failed for %s %s%s",
                incoming.kind,
                incoming.command or "",
                incoming.action_id or "",
            )
            try:
                await responder.reply(message(APOLOGY, Section(APOLOGY), private=True))
            except Exception:
                # Nobody was told: the delivery is not done. The adapter keeps it for
                # another try, and records the handler's error (not the apology's).
                log.warning("could not tell the person that their request failed")
                raise failure from None

    async def _route(self, turn: Turn) -> None:
        inc = turn.incoming
        if inc.kind == "action":
            handler = self.registry.find_action(inc.action_id)
            if handler is None:
                await turn.reply("That button is no longer active.", private=True)
                return
            await handler(turn)
            return
        name, args = (inc.command, inc.args) if inc.kind == "command" else parse_text(inc.text)
        if inc.kind == "text" and not name:
            name = "help"
        if name == "secbot":  # `/secbot quiz` is the same as `/quiz`
            name, args = parse_text(args)
            name = name or "help"
        cmd = self.registry.find(name)
        if cmd is None:
            await turn.reply(unknown_command(name), private=True)
            return
        turn.incoming = replace(inc, kind="command", command=cmd.name, args=args)
        await cmd.handler(turn)


def unknown_command(name: str) -> Message:
    shown = name if len(name) <= 40 else name[:40] + "…"
    text = f"I don't know the command “{shown}”. Type help to see what I can do."
    return message(text, Section(text), private=True)
