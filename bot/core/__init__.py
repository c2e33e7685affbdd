"""The platform-neutral core: the model, the router and what every feature may use.

The names below are the core's public API for features (``from bot.core import Turn``);
the neutral message model is in :mod:`bot.core.model`.
"""

from bot.core.middleware.errors import APOLOGY
from bot.core.posted import Sighting
from bot.core.router import Bot, parse_text, unknown_command
from bot.core.turn import (
    CHANNEL,
    WORKSPACE,
    DeliveryFailed,
    Intake,
    Middleware,
    Next,
    Pauses,
    PostInDoubt,
    Responder,
    Route,
    Services,
    Transport,
    Turn,
)

__all__ = [
    "APOLOGY",
    "CHANNEL",
    "WORKSPACE",
    "Bot",
    "DeliveryFailed",
    "Intake",
    "Middleware",
    "Next",
    "Pauses",
    "PostInDoubt",
    "Responder",
    "Route",
    "Services",
    "Sighting",
    "Transport",
    "Turn",
    "parse_text",
    "unknown_command",
]
