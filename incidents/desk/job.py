"""What every job of the incident desk shares: the desk, its store, playbooks and pager."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from incidents.desk.core import IncidentDesk


class DeskJob:
    """One job of the desk (triage, the checklist, acknowledging…). The desk's helpers
    (``find``, ``event``, ``refresh``, ``post``) and the other jobs are on ``self.desk``."""

    def __init__(self, desk: IncidentDesk):
        self.desk = desk
        self.services = desk.services
        self.store = desk.store
        self.playbooks = desk.playbooks
        self.pager = desk.pager
