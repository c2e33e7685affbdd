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
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.workers import Worker
from incidents.cards import HANDOVER, STEP_ASSIGN
from incidents.desk import IncidentDesk
from incidents.desk.evidence import TIMELINE
from incidents.desk.ico import ICO
from incidents.desk.paging_link import ACK_HINT
from incidents.desk.reminders import LONGEST_WAIT, UPDATE
from incidents.desk.takedowns import TAKEDOWN, chase_worker
from incidents.playbook_lint import load_playbooks
from incidents.store.retention import add_pruners

if TYPE_CHECKING:
    from bot.core import Services, Turn
    from bot.core.features import FeatureHost
    from bot.core.registry import Handler, Listener


async def resume_worker(services: Services) -> AsyncIterator[None]:
    """At start-up, finish incidents a stopped process left half started or half
    closed. The list is taken before any request is served, so it never races a
    triage finishing now; the work itself runs in a task so start-up is not held up."""
    desk = services.feature(IncidentDesk)
    started, closed = await desk.triage.unfinished()
    task = asyncio.create_task(desk.triage.resume(started, closed), name="secbot-incidents-resume")
    try:
        yield
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def named(desk: IncidentDesk, handler: Handler) -> Handler:
    """``handler`` with the acting person named as the platform knows them (their display
    name, not a Slack handle), so everything the desk records about them carries it."""

    async def run(turn: Turn) -> None:
        actor = await desk.names.named(turn.actor, turn.place)
        if actor is not turn.actor:
            turn.incoming = replace(turn.incoming, actor=actor)
        await handler(turn)

    return run


def named_listener(desk: IncidentDesk, listener: Listener) -> Listener:
    """A listener that records the acting person does so by their name (see ``named``)."""

    async def run(turn: Turn) -> bool:
        actor = await desk.names.named(turn.actor, turn.place)
        if actor is not turn.actor:
            turn.incoming = replace(turn.incoming, actor=actor)
        return await listener(turn)

    return run


def setup(host: FeatureHost) -> None:
    playbooks = load_playbooks()  # refuses start-up when the playbooks fail lint
    from incidents.paging import paging_setup

    pager = paging_setup(host)
    desk = IncidentDesk(host.services, playbooks, pager)
    if pager is not None:
        pager.on_notice = desk.paging.on_notice
        pager.ack_hint = ACK_HINT
        pager.name_of = desk.names.known
        from incidents.paging.webhooks import WebhookReceiver

        receiver = host.services.find_feature(WebhookReceiver)
        if receiver is not None:  # None with a stand-in pager (tests)
            receiver.on_event = desk.remote.on_event
    host.services.provide(desk)
    host.registry.add_command(
        "compromised",
        "Report a hijacked social media account and work through recovery",
        named(desk, desk.commands.command),
        usage="compromised [platform] [@account]",
        related=("hacked", "hack", "hijacked", "hijack"),
        slash=True,
    )
    host.registry.add_listener(desk.commands.listen)
    host.registry.add_action("incident", named(desk, desk.commands.action))
    # Person pickers (incidents/desk/handover.py): hand over, and give a checklist step.
    host.registry.add_action(HANDOVER, named(desk, desk.handover.on_pick))
    host.registry.add_action(STEP_ASSIGN, named(desk, desk.handover.on_pick))
    # The ICO clock's decision buttons and the status update form (incidents/desk/ico.py,
    # incidents/desk/reminders.py), and the worker that fires their durable timers.
    host.registry.add_action(ICO, named(desk, desk.ico.on_click))
    host.registry.add_action(UPDATE, named(desk, desk.reminders.on_click))
    desk.reminders.worker = Worker(
        "incident-timers", desk.reminders.step, every=LONGEST_WAIT, clock=host.services.clock
    )
    host.add_worker(desk.reminders.worker)
    host.add_background(resume_worker)
    # Evidence from anywhere and impersonation takedowns (incidents/desk/evidence.py,
    # incidents/desk/takedowns.py).
    host.registry.add_action(TIMELINE, named(desk, desk.evidence.action))
    host.registry.add_action(TAKEDOWN, named(desk, desk.takedowns.action))
    host.registry.add_file_listener(named_listener(desk, desk.evidence.on_files))
    host.add_worker(chase_worker(host.services, desk.takedowns))
    add_pruners(host.services)  # closed incidents and old callbacks go in the daily prune
