"""Which tip a channel gets next.

Each channel has its own shuffled order per cycle: a per-tip hash of (channel, cycle,
tip), so adding or retiring a tip never reorders the others, and every tip is served once
before any repeats. ``TipCatalogue`` is the content library's current tips.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core import Services
    from bot.core.model import Place
    from content.library.models import Tip
    from content.tips.store import Delivery


def _order_key(place_key: str, cycle: int) -> Callable[[str], bytes]:
    """sha256(f"{place}|{cycle}|{tip}"), hashing the shared prefix once."""
    prefix = hashlib.sha256(f"{place_key}|{cycle}|".encode())

    def key(tip_id: str) -> bytes:
        h = prefix.copy()
        h.update(tip_id.encode())
        return h.digest()

    return key


def rotation_order(place_key: str, cycle: int, tip_ids: Iterable[str]) -> list[str]:
    """The channel's shuffled order for ``cycle``: a per-tip hash of (channel, cycle, tip),
    so adding or retiring a tip never reorders the others."""
    return sorted(tip_ids, key=_order_key(place_key, cycle))


def next_tip(
    place_key: str, cycle: int, served: set[str], tip_ids: Iterable[str]
) -> tuple[str, int] | None:
    """(tip id, cycle) of the next tip: the first unserved tip in this cycle's order, or,
    once every current tip has been served, the first of the next cycle.

    Only the first is needed, so this hashes the unserved tips and takes the smallest
    (O(n), no sort); nothing is cached, so thousands of channels cost no memory."""
    ids = tip_ids if isinstance(tip_ids, list) else list(tip_ids)
    if not ids:
        return None
    left = [t for t in ids if t not in served]
    if left:
        return min(left, key=_order_key(place_key, cycle)), cycle
    return min(ids, key=_order_key(place_key, cycle + 1)), cycle + 1


class TipCatalogue:
    """The content library's current tips, as the scheduler and the fan-out see them."""

    def __init__(self, services: Services):
        self.services = services
        self._ids: tuple[Any, int, list[str]] | None = None

    def tip_ids(self) -> list[str]:
        """Every current tip id, sorted; worked out once per content library."""
        content = self.services.content
        if content is None:
            return []
        cached = self._ids
        if cached is None or cached[0] is not content.tips or cached[1] != len(content.tips):
            cached = (content.tips, len(content.tips), sorted(content.tips))
            self._ids = cached
        return cached[2]

    def tip(self, tip_id: str) -> Tip | None:
        content = self.services.content
        return content.tip(tip_id) if content else None

    def replacement(self, place: Place, row: Delivery) -> Tip | None:
        """The claimed tip was retired since: send the first tip still in the library."""
        ids = self.tip_ids()
        return self.tip(rotation_order(place.key, row.cycle, ids)[0]) if ids else None
