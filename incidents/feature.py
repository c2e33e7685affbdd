"""``/compromised``: report a hijacked social media account and work it to a close.

This module plugs the incident desk into the app: ``setup`` registers the ``compromised``
command and every ``incident:`` button, and the worker that resumes half-done work at
start-up. The handlers are in ``incidents/desk/``, one module per job; ``/compromised``
arrives in ``incidents/desk/commands.py``.

At start-up ``resume_worker`` finishes what a stopped process left half done: a triaged
incident not yet paged (or without its checklist), or a closed one still paging.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from incidents.desk import IncidentDesk
from incidents.desk.paging_link import ACK_HINT
from incidents.playbook_lint import load_playbooks

if TYPE_CHECKING:
    from bot.core import Services
    from bot.core.features import FeatureHost


async def resume_worker(services: Services) -> AsyncIterator[None]:
    """At start-up, finish incidents a stopped process left half started or half
    closed. The list is taken before any request is served, so it never races a
    triage finishing now; the work itself runs in a task so start-up is not held up."""
    desk = services.feature(IncidentDesk)
    started, closed = desk.triage.unfinished()
    task = asyncio.create_task(desk.triage.resume(started, closed), name="secbot-incidents-resume")
    try:
        yield
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def setup(host: FeatureHost) -> None:
    playbooks = load_playbooks()  # refuses start-up when the playbooks fail lint
    from incidents.paging import paging_setup

    pager = paging_setup(host)
    desk = IncidentDesk(host.services, playbooks, pager)
    if pager is not None:
        pager.on_event = desk.paging.on_page_event
        pager.ack_hint = ACK_HINT
    host.services.provide(desk)
    host.registry.add_command(
        "compromised",
        "Report a hijacked social media account and work through recovery",
        desk.commands.command,
        usage="compromised [platform] [@account]",
        related=("hacked", "hack", "hijacked", "hijack"),
        slash=True,
    )
    host.registry.add_listener(desk.commands.listen)
    host.registry.add_action("incident", desk.commands.action)
    host.add_background(resume_worker)
