"""The command and action registry.

Commands have a name, aliases and one line of help; ``help`` lists them. Button
actions are routed by the namespace before the first ``:`` of their action id
(``quiz:answer`` goes to the handler registered for ``quiz``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.actions import namespace

# A handler takes the router's ``Turn``. It is typed loosely here so the registry needs
# nothing from the router (which holds a registry): no import circle.
Handler = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    usage: str = ""
    hidden: bool = False
    # Whole-command permissions, checked by ``bot.core.middleware.permissions``.
    admin_only: bool = False
    refusal: str = ""


@dataclass
class Registry:
    commands: dict[str, Command] = field(default_factory=dict)
    _lookup: dict[str, Command] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)

    def add_command(
        self,
        name: str,
        help: str,
        handler: Handler,
        *,
        aliases: tuple[str, ...] = (),
        usage: str = "",
        hidden: bool = False,
        admin_only: bool = False,
        refusal: str = "",
    ) -> Command:
        """``admin_only``: only people in SECBOT_ADMINS may run it; anyone else gets
        ``refusal`` (friendly words saying why and whom to ask), privately."""
        cmd = Command(
            name, help, handler, tuple(aliases), usage or name, hidden, admin_only, refusal
        )
        for key in (name, *aliases):
            key = key.lower()
            if key in self._lookup:
                raise ValueError(f"command name {key!r} is registered twice")
            self._lookup[key] = cmd
        self.commands[name] = cmd
        return cmd

    def command(self, name: str, help: str, **kw: Any) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.add_command(name, help, fn, **kw)
            return fn

        return deco

    def add_action(self, namespace: str, handler: Handler) -> None:
        if namespace in self.actions:
            raise ValueError(f"action namespace {namespace!r} is registered twice")
        self.actions[namespace] = handler

    def find(self, name: str) -> Command | None:
        return self._lookup.get(name.lower().lstrip("/"))

    def find_action(self, action_id: str) -> Handler | None:
        return self.actions.get(namespace(action_id))

    def visible(self) -> list[Command]:
        return [c for c in self.commands.values() if not c.hidden]
