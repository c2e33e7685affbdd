"""The platform-neutral router: turns an :class:`Incoming` into handler calls.

Adapters build an ``Incoming`` and a turn-scoped :class:`Responder`; the router finds
the command or action and runs the handler inside the middleware
(:mod:`bot.core.middleware`: correlation id, de-duplication, friendly errors,
allow-lists, permissions). Handlers only ever see a :class:`Turn`, never a Slack or
Teams object.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bot.core import middleware
from bot.core.model import Actor, Incoming, Message, MessageRef, Place, Section, message
from bot.core.registry import Command, Handler, Registry
from bot.storage.dead_letters import DeadLetters
from bot.storage.deliveries import DeliveryStore

if TYPE_CHECKING:
    from sqlite_utils import Database

    from bot.core.clock import Clock
    from bot.core.workspace_pause import WorkspacePauses
    from bot.settings import Settings


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

    async def upload(self, place: Place, filename: str, content: str) -> MessageRef | None:
        """Post a text file (a report, an export) in a place; raises DeliveryFailed."""
        ...

    async def lookup(self, workspace: str, user_id: str) -> Actor | None:
        """The person with this platform id, named as the platform knows them; None
        when the platform does not know them (or can't say)."""
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


class Intake(Protocol):
    """A front door that keeps deliveries and handles them later (the Slack intake)."""

    def notify(self) -> None:
        """Wake it: a kept delivery (a retried dead letter) is waiting."""


F = TypeVar("F")


@dataclass
class Services:
    """What every handler may use; built once by the app factory."""

    settings: Settings
    db: Database
    clock: Clock
    registry: Registry
    transports: dict[str, Transport] = field(default_factory=dict)
    content: Any = None
    # The core's own stores and front-door handles, typed.
    deliveries: DeliveryStore | None = None
    dead_letters: DeadLetters | None = None
    workspaces: WorkspacePauses | None = None  # set by workspace_pause.guard_transports
    slack_intake: Intake | None = None  # set when Slack is on
    # Each feature's one instance (the quiz, the tips, the incident desk, the pager),
    # found by its class: ``services.feature(Pager)``; see :meth:`provide`.
    features: dict[type, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.db is not None:
            self.deliveries = self.deliveries or DeliveryStore(self.db)
            self.dead_letters = self.dead_letters or DeadLetters(self.db)

    def provide(self, instance: Any, as_type: type | None = None) -> None:
        """Make a feature's instance findable by its class (or ``as_type``)."""
        self.features[as_type or type(instance)] = instance

    def feature(self, cls: type[F]) -> F:
        """The instance a feature provided for ``cls``; KeyError if it is not loaded."""
        found: F = self.features[cls]
        return found

    def find_feature(self, cls: type[F]) -> F | None:
        """Like :meth:`feature`, or None when that feature is not loaded."""
        return self.features.get(cls)

    def is_admin(self, actor: Actor) -> bool:
        admins = self.settings.admins
        return actor.user_id in admins or actor.key in admins


@dataclass(frozen=True)
class Route:
    """What a delivery asks for, found before the middleware runs (so permissions can be
    checked there): a command with its arguments, or an action's handler. ``None``
    fields mean nothing matched; the router answers that itself, inside the middleware."""

    command: Command | None = None
    name: str = ""
    args: str = ""
    action: Handler | None = None


@dataclass
class Turn:
    """One delivery as a handler sees it."""

    incoming: Incoming
    services: Services
    responder: Responder
    # Set by the router and its middleware, not by handlers.
    route: Route | None = None
    replay: bool = False
    on_accept: Callable[[], None] | None = None
    repeated: bool = False

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
# call ``await call_next(turn)`` to pass it on (see :mod:`bot.core.middleware`).
Next = Callable[["Turn"], Awaitable[None]]
Middleware = Callable[["Turn", Next], Awaitable[None]]

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
        if services.deliveries is None:
            raise ValueError("Services has no delivery store (it is built with a database)")
        # Outermost first; see bot.core.middleware for why this order.
        self.middleware: list[Middleware] = [
            middleware.correlate,
            middleware.deduplicate(services.deliveries),
            middleware.friendly_errors,
            middleware.allow_list(services.settings),
            middleware.permissions,
        ]

    def _chain(self) -> Next:
        """The router wrapped in the middleware, the first in the list outermost."""
        call: Next = self._route
        for mw in reversed(self.middleware):

            async def step(turn: Turn, mw: Middleware = mw, inner: Next = call) -> None:
                await mw(turn, inner)

            call = step
        return call

    async def handle(
        self,
        incoming: Incoming,
        responder: Responder,
        *,
        replay: bool = False,
        on_accept: Callable[[], None] | None = None,
    ) -> bool:
        """Route one delivery, once; False when it was a repeat and was dropped.

        ``replay`` is for a delivery a dead process acknowledged but may not have finished:
        it is handled even if already claimed, and the features' own uniqueness rules
        (one answer per person per question, one tip per channel per day) stop a repeat.
        ``on_accept`` runs once the delivery is known to be new, before it is handled.
        """
        turn = Turn(
            incoming, self.services, responder, self.resolve(incoming), replay, on_accept
        )
        await self._chain()(turn)
        return not turn.repeated

    def first_time(self, delivery_id: str) -> bool:
        """True the first time a delivery that is not a turn (a Teams install) is seen:
        the same record the de-duplication middleware keeps."""
        deliveries = self.services.deliveries
        assert deliveries is not None
        return deliveries.claim(delivery_id, self.services.clock.now())

    def resolve(self, inc: Incoming) -> Route:
        """Which command or action a delivery asks for (no side effects)."""
        if inc.kind == "action":
            return Route(action=self.registry.find_action(inc.action_id))
        name, args = (inc.command, inc.args) if inc.kind == "command" else parse_text(inc.text)
        if inc.kind == "text" and not name:
            name = "help"
        if name == "secbot":  # `/secbot quiz` is the same as `/quiz`
            name, args = parse_text(args)
            name = name or "help"
        return Route(command=self.registry.find(name), name=name, args=args)

    async def _route(self, turn: Turn) -> None:
        route = turn.route or self.resolve(turn.incoming)
        if turn.incoming.kind == "action":
            if route.action is None:
                await turn.reply("That button is no longer active.", private=True)
                return
            await route.action(turn)
            return
        cmd = route.command
        if cmd is None:
            await turn.reply(unknown_command(route.name), private=True)
            return
        turn.incoming = replace(turn.incoming, kind="command", command=cmd.name, args=route.args)
        await cmd.handler(turn)


def unknown_command(name: str) -> Message:
    shown = name if len(name) <= 40 else name[:40] + "…"
    text = f"I don't know the command “{shown}”. Type help to see what I can do."
    return message(text, Section(text), private=True)
