"""Paging the responsible team for an incident, escalating until someone acknowledges.

The incident feature calls :func:`paging_setup` from its own ``setup`` and then uses
the :class:`Pager` it returns (also ``services.feature(Pager)``). See README_SECTION.md for the
routing file and provider settings.
"""

from incidents.paging.api import Pager, paging_setup
from incidents.paging.model import IncidentInfo, PageRecord
from incidents.paging.providers import PageRequest, ProviderResult, verify_webhook
from incidents.paging.routing import RoutingConfig, RoutingError, Team, load_routing

__all__ = [
    "IncidentInfo",
    "PageRecord",
    "PageRequest",
    "Pager",
    "ProviderResult",
    "RoutingConfig",
    "RoutingError",
    "Team",
    "load_routing",
    "paging_setup",
    "verify_webhook",
]
