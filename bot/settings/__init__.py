"""Settings, read once from the environment and an optional ``.env`` file (see
:mod:`bot.settings.model`; ``python -m bot.settings --markdown`` writes
docs/configuration.md)."""

from bot.settings.model import (
    ConfigError,
    Settings,
    check_modes,
    is_loopback,
    load_settings,
    markdown,
    variable_names,
    warn_unknown,
)

__all__ = [
    "ConfigError",
    "Settings",
    "check_modes",
    "is_loopback",
    "load_settings",
    "markdown",
    "variable_names",
    "warn_unknown",
]
