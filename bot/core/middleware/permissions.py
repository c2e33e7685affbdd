"""Middleware: a command declared ``admin_only`` (``registry.add_command(...,
admin_only=True, refusal=...)``) is refused, privately and in its own friendly words, to
anyone not in SECBOT_ADMINS. The rule sits next to the command, the check here, once."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.turn import Next, Turn

REFUSAL = "Only secbot admins can do that. Please ask one of your secbot admins."


async def permissions(turn: Turn, call_next: Next) -> None:
    command = turn.route.command if turn.route is not None else None
    if command is not None and command.admin_only and not turn.services.is_admin(turn.actor):
        await turn.reply(command.refusal or REFUSAL, private=True)
        return
    await call_next(turn)
