"""``help``: what the bot can do, generated from the registry."""

from __future__ import annotations

from bot.core import Turn
from bot.core.features import FeatureHost
from bot.core.model import Context, Heading, Message, Place, Section


def help_message(turn: Turn) -> Message:
    cmds = sorted(turn.services.registry.visible(), key=lambda c: c.name)
    slash = turn.place.platform == "slack"
    lines = [(f"/{c.usage}" if slash else c.usage, c.help) for c in cmds]
    text = "What I can do:\n" + "\n".join(f"{u} — {h}" for u, h in lines)
    hint = (
        "Type a command in any channel I'm in, or message me directly."
        if slash
        else "Type a command, for example “quiz”, or mention me in a channel."
    )
    return Message(
        text=text,
        blocks=(
            Heading("secbot: keeping official social media accounts safe"),
            Section("Here is what I can do:", fields=tuple(lines)),
            Context((hint,)),
        ),
        private=not turn.place.is_direct,
    )


def welcome_message(place: Place) -> Message:
    """What the bot says when it is added to a chat or a team (Teams tells it)."""
    how = (
        "Type help to see what I can do."
        if place.is_direct
        else "Mention me with a command to use me here, for example @secbot help."
    )
    text = (
        "Hello, I'm secbot. I help your team keep its official social media accounts safe, "
        f"with daily tips, short quizzes and help if an account is hijacked. {how}"
    )
    return Message(text=text, blocks=(Section(text),))


async def help_command(turn: Turn) -> None:
    await turn.reply(help_message(turn))


def setup(host: FeatureHost) -> None:
    host.registry.add_command("help", "Show what I can do", help_command, aliases=("start",))
