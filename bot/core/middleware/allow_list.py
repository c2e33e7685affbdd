"""Middleware: the optional Slack workspace and Teams tenant allow-lists
(SECBOT_SLACK_TEAM_IDS, SECBOT_TEAMS_TENANT_IDS; :func:`bot.core.tenancy.allowed`)."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from bot.core.model import Message, Section
from bot.core.tenancy import allowed

if TYPE_CHECKING:
    from bot.core.turn import Middleware, Next, Turn
    from bot.settings import Settings

log = logging.getLogger("bot.core.tenancy")

REFUSED = (
    "secbot isn't set up for this workspace or organisation, so it can't help here. "
    "Ask whoever runs secbot to add it."
)


def allow_list(settings: Settings) -> Middleware:
    """Middleware: refuse requests from a workspace or tenant not on the allow-list.

    Commands, clicks and Teams messages get one short private line; Slack channel
    events are dropped (answering would mean posting into a stranger's channel).
    Only ids are logged, never the text."""

    async def gate(turn: Turn, call_next: Next) -> None:
        place = turn.place
        if allowed(settings, place):
            await call_next(turn)
            return
        log.warning(
            "refused a %s from %s workspace %s%s (not on the allow-list), user %s",
            turn.incoming.kind,
            place.platform,
            place.workspace or "(none)",
            f" in org {place.enterprise}" if place.enterprise else "",
            turn.actor.user_id,
        )
        if place.platform == "slack" and turn.incoming.kind == "text":
            return
        with contextlib.suppress(Exception):  # the refusal must never turn into an error
            await turn.reply(Message(REFUSED, (Section(REFUSED),), private=True))

    return gate
