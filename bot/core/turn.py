"""What a handler works with, and what every front door provides: the :class:`Turn`
(one delivery), the :class:`Services`, the :class:`Responder` and the neutral
:class:`Transport` (with :class:`DeliveryFailed`), and the middleware's types. The
router (:mod:`bot.core.router`) and the middleware build on this module; it builds on
neither, so the core has no import circle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bot import in_order
from bot.core.model import Actor, FileRef, Incoming, Message, MessageRef, Place, Section, message
from bot.core.posted import Sighting
from bot.core.registry import Command, Handler, Registry
from bot.storage.dead_letters import DeadLetters
from bot.storage.deliveries import DeliveryStore
from bot.storage.leases import new_instance

if TYPE_CHECKING:
    from datetime import datetime

    from bot.core.clock import Clock
    from bot.settings import Settings
    from bot.storage.sql import Db


class Pauses(Protocol):
    """Where delivery is paused (``bot.core.workspace_pause.WorkspacePauses``)."""

    def reason(self, platform: str, workspace: str) -> str | None: ...

    async def resume(self, platform: str, workspace: str) -> bool: ...

    def all(self) -> list[Any]: ...


class Responder(Protocol):
    """How a handler answers within one delivery; each adapter implements it."""

    async def reply(self, msg: Message) -> MessageRef | None:
        """Post in the same place; ``msg.private`` shows it to the actor only."""

    async def update_original(self, msg: Message) -> None:
        """Replace the message the button was on."""


class Transport(Protocol):
    """How the core reaches a place outside any delivery (tips, closing a quiz)."""

    platform: str
    # Whether ``find_posted`` can ever answer found or absent (Slack reads the channel's
    # history). Where it can't, a post cut off in the middle is never looked for, so
    # nothing needs to bound how long the post may take.
    finds_posts: bool
    # Whether the name an event gives a person may be a handle rather than the name
    # people see (Slack's clicks and slash commands carry the legacy username): a record
    # that keeps the name asks ``lookup`` first. Teams and the web chat give the name.
    names_are_handles: bool

    async def post(
        self, place: Place, msg: Message, *, key: str | None = None
    ) -> MessageRef | None:
        """Post in ``place``. ``key`` is an idempotency key: a platform that can (Slack,
        as message metadata) keeps it with the message, so ``find_posted`` can tell later
        whether a post cut off in the middle arrived."""
        ...

    async def find_posted(self, place: Place, key: str, since: datetime) -> Sighting:
        """Whether a message posted with ``key`` is in ``place`` since ``since`` (found,
        absent, or unknown when the platform can't tell: ``bot/core/posted.py``). Never
        raises: an error is an unknown."""
        ...

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

    async def lookup(
        self, workspace: str, user_id: str, where: Place | None = None
    ) -> Actor | None:
        """The person with this platform id, named as the platform knows them; None
        when the platform does not know them (or can't say). ``where`` is the
        conversation they were named in, for a platform that looks people up there
        (Teams asks that conversation's roster)."""
        ...

    async def people(self, workspace: str) -> list[Actor]:
        """Who can be chosen in a person picker where the platform has no picker of its
        own (the web chat's users); empty where it has one (Slack, Teams)."""
        ...

    async def download(self, file: FileRef, limit: int) -> bytes | None:
        """The bytes of a file someone shared (a ``FileRef`` this platform's adapter
        made), reading at most ``limit`` bytes: None when it is bigger than that.
        Raises DeliveryFailed when the platform won't hand it over."""
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


class PostInDoubt(Exception):
    """A keyed post (``Transport.post(..., key=...)``) whose connection broke after the
    request may have gone out: it may or may not be in the place. The caller must not
    simply post it again; it can ask ``find_posted`` once the platform is done with it."""


class Intake(Protocol):
    """A front door that keeps deliveries and handles them later (the Slack intake)."""

    def notify(self) -> None:
        """Wake it: a kept delivery (a retried dead letter) is waiting."""


F = TypeVar("F")


@dataclass
class Services:
    """What every handler may use; built once by the app factory."""

    settings: Settings
    db: Db
    clock: Clock
    registry: Registry
    transports: dict[str, Transport] = field(default_factory=dict)
    content: Any = None
    # The core's own stores and front-door handles, typed.
    deliveries: DeliveryStore | None = None
    dead_letters: DeadLetters | None = None
    workspaces: Pauses | None = None  # set by workspace_pause.guard_transports
    slack_intake: Intake | None = None  # set when Slack is on
    # Each feature's one instance (the quiz, the tips, the incident desk, the pager),
    # found by its class: ``services.feature(Pager)``; see :meth:`provide`.
    features: dict[type, Any] = field(default_factory=dict)
    # This instance's name on the work it claims (bot/storage/leases.py): new each start.
    instance: str = field(default_factory=new_instance)

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
    on_accept: Callable[[], Awaitable[None]] | None = None
    repeated: bool = False
    # The intake claimed the delivery's id already (with others, in one statement), so
    # the de-duplication middleware need not.
    claimed: bool = False

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
        in_order.passed()  # the next delivery in this conversation may start (bot/in_order.py)
        if isinstance(msg, str):
            msg = message(msg, Section(msg), private=private)
        elif private and not msg.private:
            msg = replace(msg, private=True)
        return await self.responder.reply(msg)

    async def update_original(self, msg: Message) -> None:
        in_order.passed()
        await self.responder.update_original(msg)


# Middleware wraps the router: ``async def mw(turn, call_next)`` may refuse a turn, or
# call ``await call_next(turn)`` to pass it on (see :mod:`bot.core.middleware`).
Next = Callable[["Turn"], Awaitable[None]]
Middleware = Callable[["Turn", Next], Awaitable[None]]
