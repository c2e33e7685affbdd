"""Deliver a file of personal data (an audit log, a person's export) to the admin who
asked, through the transport's ``upload``, only in a direct conversation with secbot: a
channel would show it to everyone in it."""

from __future__ import annotations

from bot.core import Turn
from bot.core.hints import typed
from bot.core.model import Message, Section


def private_note(text: str) -> Message:
    return Message(text=text, blocks=(Section(text),), private=True)


async def only_in_direct(turn: Turn, command: str) -> bool:
    """True when ``turn`` is in a direct conversation; else says where to ask, privately."""
    if turn.place.is_direct:
        return True
    await turn.reply(
        private_note(
            "That file holds personal data, so I only send it in a direct message with me. "
            f"Message me directly and type {typed(turn.place, command, slack_command='secbot')}."
        )
    )
    return False


async def upload(turn: Turn, filename: str, content: str) -> None:
    """The file where the admin asked (a direct conversation: see :func:`only_in_direct`)."""
    transport = turn.services.transports.get(turn.place.platform)
    if transport is None:  # the test backend has no proactive transport
        await turn.reply(Message(text=filename, attachment=(filename, content), private=True))
        return
    await transport.upload(turn.place, filename, content)
