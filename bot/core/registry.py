"""The command and action registry.

Commands have a name, aliases and one line of help; ``help`` lists them. Button
actions are routed by the namespace before the first ``:`` of their action id
(``quiz:answer`` goes to the handler registered for ``quiz``).

A mistyped command gets a suggestion (:meth:`Registry.suggest`, rapidfuzz over every
name, alias and ``related`` word, so ``comprimised`` and ``hacked`` both find
``compromised``). Text that names no command (a mention or a direct message in
everyday words) goes to the ``listeners`` first: a feature can offer its command
when the words are about it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from bot.core.actions import namespace

# A handler takes the router's ``Turn``. It is typed loosely here so the registry needs
# nothing from the router (which holds a registry): no import circle.
Handler = Callable[[Any], Awaitable[None]]
# A listener takes the Turn of text that named no command; True when it answered.
Listener = Callable[[Any], Awaitable[bool]]

# How alike a typed word and a command must be (rapidfuzz ratio, 0-100) to suggest it:
# one wrong or missing letter in a word of five or more passes; "hello" for "help" does not.
SUGGEST_CUTOFF = 80


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
    # Words people type when they mean this command ("hacked" for compromised): suggested.
    related: tuple[str, ...] = ()
    # Slack has a slash command of this name (else it is typed after /secbot).
    slash: bool = False


@dataclass
class Registry:
    commands: dict[str, Command] = field(default_factory=dict)
    _lookup: dict[str, Command] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)
    file_listeners: list[Listener] = field(default_factory=list)

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
        related: tuple[str, ...] = (),
        slash: bool = False,
    ) -> Command:
        """``admin_only``: only people in SECBOT_ADMINS may run it; anyone else gets
        ``refusal`` (friendly words saying why and whom to ask), privately. ``related``:
        words that are not the command but mean it, for "Did you mean"; ``slash``: Slack
        has a slash command of this name."""
        cmd = Command(
            name,
            help,
            handler,
            tuple(aliases),
            usage or name,
            hidden,
            admin_only,
            refusal,
            tuple(w.lower() for w in related),
            slash,
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

    def add_listener(self, listener: Listener) -> None:
        """Hear text that names no command (a mention or a direct message); the
        listener returns True when it answered, and the next is not asked."""
        self.listeners.append(listener)

    def add_file_listener(self, listener: Listener) -> None:
        """Hear files shared in a conversation (``Incoming.files``); True when it kept
        them. Files nobody keeps are ignored without a word."""
        self.file_listeners.append(listener)

    def suggest(self, typed: str) -> Command | None:
        """The command a mistyped word most likely meant, or None when none is close."""
        word = typed.lower().lstrip("/").strip()
        if not word:
            return None
        words: dict[str, Command] = {}
        for cmd in self.commands.values():
            if cmd.hidden:
                continue
            for key in (cmd.name, *cmd.aliases, *cmd.related):
                words.setdefault(key.lower(), cmd)
        best = process.extractOne(word, list(words), scorer=fuzz.ratio, score_cutoff=SUGGEST_CUTOFF)
        return words[best[0]] if best else None

    def find_action(self, action_id: str) -> Handler | None:
        return self.actions.get(namespace(action_id))

    def visible(self) -> list[Command]:
        return [c for c in self.commands.values() if not c.hidden]
