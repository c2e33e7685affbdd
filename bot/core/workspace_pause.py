"""Pausing delivery to a whole workspace when the platform refuses the bot there.

Some platform errors are about one conversation (a Slack channel archived, a Teams chat
that blocked the bot); others say the bot's own access was refused for the whole Slack
workspace or Teams tenant (a revoked token, a missing permission, credentials the Bot
Connector rejects). The transports tell them apart (``DeliveryFailed.scope``); this module
acts on the second kind, for every domain at once, as middleware around the transports:

- the first workspace-wide refusal pauses that workspace, in the database, so a restart
  keeps it; admins are told once (a direct message on a platform that still works, and
  always the log and ``/healthz``);
- while paused, proactive posts there fail at once without calling the platform, so a
  tip fan-out does not try every channel of a workspace that will refuse them all;
- an admin resumes it (``/secbot resume``) once the app is fixed.

Nothing resumes on its own: while paused nothing is sent, so there is no success to
learn from, and trying again by itself would mean probing a workspace that refused us.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table, Text, delete, select

from bot.core.model import Actor, Message, MessageRef, Place, Section
from bot.core.turn import WORKSPACE, DeliveryFailed
from bot.storage.sql import Db, UtcDateTime, execute, metadata, upsert

if TYPE_CHECKING:
    from bot.core.clock import Clock
    from bot.core.turn import Services, Transport

log = logging.getLogger(__name__)

paused_workspaces = Table(
    "paused_workspaces",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("workspace", Text, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("paused_at", UtcDateTime, nullable=False),
)

_PAUSE = upsert(paused_workspaces).on_conflict_do_nothing()

PLATFORM_NAMES = {"slack": "Slack workspace", "teams": "Teams tenant", "web": "web chat"}


@dataclass(frozen=True)
class Pause:
    platform: str
    workspace: str
    reason: str
    since: datetime

    @property
    def where(self) -> str:
        return f"{PLATFORM_NAMES.get(self.platform, self.platform)} {self.workspace}".strip()


class WorkspacePauses:
    """The paused workspaces, read once at start (:meth:`load`) and kept in memory: a
    fan-out asks for each post, so :meth:`reason` must not touch the database."""

    def __init__(self, db: Db):
        self.db = db
        self._cache: dict[tuple[str, str], Pause] = {}

    async def load(self) -> None:
        """Read every pause (the app does this before any front door opens)."""
        p = paused_workspaces.c
        query = select(p.platform, p.workspace, p.reason, p.paused_at)
        self._cache = {
            (r.platform, r.workspace): Pause(r.platform, r.workspace, r.reason, r.paused_at)
            for r in (await execute(self.db, query)).all()
        }

    def reason(self, platform: str, workspace: str) -> str | None:
        found = self._cache.get((platform, workspace))
        return found.reason if found else None

    async def pause(
        self, platform: str, workspace: str, reason: str, now: datetime
    ) -> Pause | None:
        """The new pause, or None if the workspace was already paused."""
        row = {"platform": platform, "workspace": workspace, "reason": reason, "paused_at": now}
        if (await execute(self.db, _PAUSE, row)).rowcount != 1:
            return None
        pause = Pause(platform, workspace, reason, now)
        self._cache[(platform, workspace)] = pause
        return pause

    async def resume(self, platform: str, workspace: str) -> bool:
        p = paused_workspaces.c
        gone = delete(paused_workspaces).where(p.platform == platform, p.workspace == workspace)
        removed = (await execute(self.db, gone)).rowcount
        self._cache.pop((platform, workspace), None)
        return removed == 1

    def all(self) -> list[Pause]:
        return sorted(self._cache.values(), key=lambda p: p.since)


class PausingTransport:
    """A transport that refuses at once for a paused workspace and pauses one on the
    platform's first workspace-wide refusal. Everything else passes straight through."""

    def __init__(
        self,
        inner: Transport,
        pauses: WorkspacePauses,
        on_pause: Callable[[Pause], None],
        clock: Clock,
    ):
        self.inner = inner
        self.platform = inner.platform
        self.pauses = pauses
        self.on_pause = on_pause
        self.clock = clock

    def __getattr__(self, name: str) -> Any:
        # find_posted too: a refusal to read history (missing_scope) is an answer
        # ("unknown"), not a failed post, so it never pauses the workspace.
        return getattr(self.inner, name)

    def _check(self, place: Place) -> None:
        reason = self.pauses.reason(place.platform, place.workspace)
        if reason is not None:
            raise DeliveryFailed(f"workspace paused ({reason})", scope=WORKSPACE)

    async def _failed(self, place: Place, e: DeliveryFailed) -> None:
        if e.scope != WORKSPACE:
            return
        pause = await self.pauses.pause(place.platform, place.workspace, e.reason, self.clock.now())
        if pause is not None:
            self.on_pause(pause)

    async def post(
        self, place: Place, msg: Message, *, key: str | None = None
    ) -> MessageRef | None:
        self._check(place)
        try:
            if key is None:  # a transport of a test's own may not take a key
                return await self.inner.post(place, msg)
            return await self.inner.post(place, msg, key=key)
        except DeliveryFailed as e:
            await self._failed(place, e)
            raise

    async def post_private(self, place: Place, actor: Actor, msg: Message) -> None:
        self._check(place)
        try:
            await self.inner.post_private(place, actor, msg)
        except DeliveryFailed as e:
            await self._failed(place, e)
            raise

    async def update(self, ref: MessageRef, msg: Message) -> None:
        self._check(ref.place)
        try:
            await self.inner.update(ref, msg)
        except DeliveryFailed as e:
            await self._failed(ref.place, e)
            raise

    async def upload(self, place: Place, filename: str, content: str) -> MessageRef | None:
        self._check(place)
        try:
            return await self.inner.upload(place, filename, content)
        except DeliveryFailed as e:
            await self._failed(place, e)
            raise


_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def admin_places(services: Services, paused_platform: str) -> list[Place]:
    """Direct conversations with admins on the platforms other than the paused one, where
    secbot can start one by itself: Slack (a user id is a DM channel) and the web chat."""
    places = []
    for admin in sorted(services.settings.admins):
        platform, _, user = admin.partition(":")
        if not user:
            platform, user = ("slack", admin) if _SLACK_USER.match(admin) else ("", "")
        if platform == paused_platform or platform not in services.transports:
            continue
        if platform in ("slack", "web"):  # Teams can't open a conversation by itself
            places.append(services.transports[platform].direct_place("", user))
    return places


def pause_message(pause: Pause, services: Services) -> Message:
    resume = f"resume {pause.platform} {pause.workspace}".strip()
    text = (
        f"secbot has paused everything it posts in the {pause.where}: the platform refused "
        f"its access there ({pause.reason}), for the whole workspace, not one channel. "
        "Tips, quiz updates and chat pages there are not being sent. Check the app's "
        "installation, token and permissions, then type "
        f"“/secbot {resume}” (Slack) or “{resume}” to start again."
    )
    return Message(text=text, blocks=(Section(text),))


def guard_transports(services: Services) -> WorkspacePauses:
    """Wrap every transport registered so far; call once, after the app has added them."""
    pauses = WorkspacePauses(services.db)
    services.workspaces = pauses
    tasks: set[asyncio.Task[Any]] = set()

    def on_pause(pause: Pause) -> None:
        log.error(
            "paused delivery to %s: the platform refused secbot's access (%s); an admin "
            "can resume it once fixed",
            pause.where,
            pause.reason,
        )
        task = asyncio.get_running_loop().create_task(tell_admins(services, pause))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    for name, transport in list(services.transports.items()):
        services.transports[name] = PausingTransport(transport, pauses, on_pause, services.clock)
    return pauses


async def tell_admins(services: Services, pause: Pause) -> int:
    """Tell each admin we can still reach, once per pause; returns how many were told."""
    told = 0
    msg = pause_message(pause, services)
    for place in admin_places(services, pause.platform):
        try:
            await services.transports[place.platform].post(place, msg)
            told += 1
        except Exception as e:  # noqa: BLE001 - the log line above already says it all
            log.warning("could not tell an admin about a paused workspace: %s", type(e).__name__)
    if not told:
        log.error("no admin could be told in chat about the pause of %s", pause.where)
    return told
