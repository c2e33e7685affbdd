"""Plugs the posture summary into the app: ``/secbot posture`` (admins only; the
permissions middleware refuses anyone else with the words below) and the same figures
as gauges in ``/metrics``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.tenancy import tenants_of
from incidents.posture.metrics import add_posture_metrics
from incidents.posture.reading import read_posture
from incidents.posture.view import summary

if TYPE_CHECKING:
    from bot.core import Services, Turn
    from bot.core.features import FeatureHost


class PostureFeature:
    def __init__(self, services: Services):
        self.services = services

    async def command(self, turn: Turn) -> None:
        """The caller's own workspace or tenant only (``tenants_of``): an admin of one
        never sees another's figures."""
        posture = await read_posture(
            self.services, tenants_of(turn.place), self.services.clock.now()
        )
        await turn.reply(summary(posture, turn.place))


def setup(host: FeatureHost) -> None:
    feature = PostureFeature(host.services)
    host.services.provide(feature)
    host.registry.add_command(
        "posture",
        "Admins: what needs fixing across the registered accounts, team by team",
        feature.command,
        usage="posture",
        hidden=True,
        admin_only=True,
        refusal="Only secbot admins can see the security posture summary. Ask one of them,"
        " or see your own team's accounts with the register command.",
    )
    add_posture_metrics(host.services)
