"""The platform-neutral core: the model, the router and what every feature may use.

The names below are the core's public API for features (``from bot.core import Turn``);
the neutral message model is in :mod:`bot.core.model`.
"""

from bot.core.middleware.errors import APOLOGY
from bot.core.router import (
    CHANNEL,
    WORKSPACE,
    Bot,
    DeliveryFailed,
    Intake,
    Middleware,
    Next,
    Responder,
    Route,
    Services,
    Transport,
    Turn,
    parse_text,
    unknown_command,
)

__all__ = [
    "APOLOGY",
    "CHANNEL",
    "WORKSPACE",
    "Bot",
    "Intake",
    "Route",
    "DeliveryFailed",
    "Middleware",
    "Next",
    "Responder",
    "Services",
    "Transport",
    "Turn",
    "parse_text",
    "unknown_command",
]
