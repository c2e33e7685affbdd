"""How a tip looks in a channel: one neutral message with its vote and quiz buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.actions import button_value
from bot.core.model import Actions, Button, Context, Heading, Message, Section

if TYPE_CHECKING:
    from content.library.models import Tip


def tip_message(tip: Tip, *, private: bool = False, footer: str = "") -> Message:
    title, body, action = tip.title.text(), tip.body.text(), tip.action.text()
    lines = [f"Source: {tip.source.title} ({tip.source.url})"]
    if footer:
        lines.append(footer)
    return Message(
        text=f"Security tip: {title}. {body} Do this today: {action}",
        blocks=(
            Heading(f"Security tip: {title}"),
            Section(body),
            Section(f"Do this today: {action}"),
            Context(tuple(lines)),
            Actions(
                (
                    Button("Useful", "tip:vote", button_value(tip.id, "useful"), "primary"),
                    Button("Not useful", "tip:vote", button_value(tip.id, "not-useful")),
                    Button("Quiz me on this", "tip:quiz", tip.id),
                )
            ),
        ),
        private=private,
    )
