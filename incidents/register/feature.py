"""Plugs the accounts register into the app: the ``register`` command (typed after
``/secbot`` on Slack), its ``register:`` buttons and pickers, and CSV files shared with
secbot (a register import). The incident desk finds the register with
``services.find_feature(Register)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.team_platforms import TeamPlatforms
from incidents.register.flows import Register

if TYPE_CHECKING:
    from bot.core.features import FeatureHost


def setup(host: FeatureHost) -> None:
    register = Register(host.services)
    host.services.provide(register)
    host.services.provide(register, as_type=TeamPlatforms)  # /tip: a team's platforms first
    host.registry.add_command(
        "register",
        "Your official social media accounts: who owns them, who can get in, how they are "
        "protected",
        register.command,
        aliases=("accounts",),
        usage="register [add | show <number> | edit <number> | export | import]",
    )
    host.registry.add_action("register", register.action)
    host.registry.add_file_listener(register.csv.on_files)
