"""Which platforms a person's team works on, for a feature that wants to put those first
(``/tip`` shows tips for them first) without importing the feature that knows (the
accounts register, ``incidents/register``): the register provides itself as this type
(``services.provide(register, as_type=TeamPlatforms)``) and the tips find it with
``services.find_feature(TeamPlatforms)``; None when the register is not loaded."""

from __future__ import annotations

from abc import ABC, abstractmethod

from bot.core.model import Place


class TeamPlatforms(ABC):
    @abstractmethod
    async def platforms_for(self, place: Place, user_id: str) -> frozenset[str]:
        """Platform codes (``x``, ``facebook``…) of the registered accounts of the
        person's teams, in the tenant of ``place``; empty when the register knows none."""
