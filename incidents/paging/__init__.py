"""Paging the responsible team for an incident, escalating until someone acknowledges.

The incident feature calls :func:`paging_setup` from its own ``setup`` and then uses
the :class:`Pager` it returns (also ``services.feature(Pager)``). The README's "Paging and
escalation" section describes the routing file and the provider settings.
"""

from incidents.paging.api import Pager
from incidents.paging.model import IncidentInfo, PageRecord
from incidents.paging.providers import PageRequest, ProviderResult, verify_webhook
from incidents.paging.routing import RoutingConfig, RoutingError, Team, load_routing
from incidents.paging.setup import paging_setup

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
