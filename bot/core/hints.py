"""The one command hint: how a person types a command where they are.

Slack has slash commands (``/quiz 10m``, or ``/secbot deadletters`` for the commands
that have no slash command of their own); a Teams channel passes the bot only messages
that mention it (``@secbot quiz 10m``); a Teams personal chat and the web chat take the
words as they are (``quiz 10m``).
"""

from __future__ import annotations

from bot.core.model import Place


def typed(place: Place | None, words: str, *, slack_command: str | None = None) -> str:
    """``words`` (the command and its arguments) as they are typed at ``place``;
    ``slack_command`` is the slash command that carries them on Slack, when the first
    word is not one itself."""
    platform = place.platform if place else ""
    if platform == "slack":
        return f"/{slack_command} {words}" if slack_command else f"/{words}"
    if platform == "teams" and not (place and place.is_direct):
        return f"@secbot {words}"
    return words
