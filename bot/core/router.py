"""The platform-neutral router: turns an :class:`Incoming` into handler calls.

Adapters build an ``Incoming`` and a turn-scoped ``Responder``; the router finds the
command or action and runs the handler inside the middleware
(:mod:`bot.core.middleware`: correlation id, de-duplication, friendly errors,
allow-lists, permissions). Handlers only ever see a :class:`~bot.core.turn.Turn`,
never a Slack or Teams object.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.core.hints import typed
from bot.core.middleware.allow_list import allow_list
from bot.core.middleware.correlation import correlate
from bot.core.middleware.dedup import deduplicate
from bot.core.middleware.errors import friendly_errors
from bot.core.middleware.permissions import permissions
from bot.core.model import Incoming, Message, Place, Section, message
from bot.core.registry import Command
from bot.core.turn import Middleware, Next, Responder, Route, Services, Turn

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
            correlate,
            deduplicate(services.deliveries),
            friendly_errors,
            allow_list(services.settings),
            permissions,
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
        on_accept: Callable[[], Awaitable[None]] | None = None,
        claimed: bool = False,
    ) -> bool:
        """Route one delivery, once; False when it was a repeat and was dropped.

        ``replay`` is for a delivery a dead process acknowledged but may not have finished:
        it is handled even if already claimed, and the features' own uniqueness rules
        (one answer per person per question, one tip per channel per day) stop a repeat.
        ``on_accept`` runs once the delivery is known to be new, before it is handled.
        ``claimed``: the caller has claimed the delivery's id as new already
        (``DeliveryStore.claim_many``), so it is not claimed again.
        """
        turn = Turn(incoming, self.services, responder, self.resolve(incoming), replay, on_accept)
        turn.claimed = claimed
        await self._chain()(turn)
        return not turn.repeated

    async def first_time(self, delivery_id: str) -> bool:
        """True the first time a delivery that is not a turn (a Teams install) is seen:
        the same record the de-duplication middleware keeps."""
        deliveries = self.services.deliveries
        assert deliveries is not None
        return await deliveries.claim(delivery_id, self.services.clock.now())

    def resolve(self, inc: Incoming) -> Route:
        """Which command or action a delivery asks for (no side effects)."""
        if inc.kind == "action":
            return Route(action=self.registry.find_action(inc.action_id))
        if inc.kind == "files":
            return Route()
        name, args = (inc.command, inc.args) if inc.kind == "command" else parse_text(inc.text)
        if inc.kind == "text" and not name:
            name = "help"
        if name == "secbot":  # `/secbot quiz` is the same as `/quiz`
            name, args = parse_text(args)
            name = name or "help"
        return Route(command=self.registry.find(name), name=name, args=args)

    async def _route(self, turn: Turn) -> None:
        route = turn.route or self.resolve(turn.incoming)
        if turn.incoming.kind == "files":
            # Files shared in a conversation: a feature that keeps them says so; nobody
            # else answers (files in an ordinary channel are none of the bot's business).
            for listener in self.registry.file_listeners:
                if await listener(turn):
                    return
            return
        if turn.incoming.kind == "action":
            if route.action is None:
                await turn.reply("That button is no longer active.", private=True)
                return
            await route.action(turn)
            return
        cmd = route.command
        if cmd is None:
            if turn.incoming.kind == "text":
                for listener in self.registry.listeners:
                    if await listener(turn):
                        return
            suggestion = self.registry.suggest(route.name)
            await turn.reply(unknown_command(route.name, suggestion, turn.place), private=True)
            return
        turn.incoming = replace(turn.incoming, kind="command", command=cmd.name, args=route.args)
        await cmd.handler(turn)


def unknown_command(
    name: str, suggestion: Command | None = None, place: Place | None = None
) -> Message:
    """The friendly refusal for a word that is no command, with "Did you mean" when
    the registry found a close one (written the way it is typed at ``place``)."""
    shown = name if len(name) <= 40 else name[:40] + "…"
    text = f"I don't know the command “{shown}”."
    if suggestion is not None:
        slack = None if suggestion.slash else "secbot"
        text += f" Did you mean {typed(place, suggestion.name, slack_command=slack)}?"
    text += " Type help to see what I can do."
    return message(text, Section(text), private=True)
