"""Evidence from anywhere: "Add to incident timeline" on any message, and files shared
in an incident's room kept with their SHA-256 hashes (issue 16 item 4).

- **A message.** Slack's message shortcut, the Teams message action and the web chat's
  per-message button all arrive as the action ``incident.timeline:add`` with the
  message in ``Incoming.shared``. It is copied to the timeline of an open incident the
  person is on, in the same workspace or tenant: the author by name, when it was
  written (Europe/London), a link to it, and its words made inert. With several open
  incidents the person is asked which (the copy waits in ``timeline_clips`` for a day,
  for them alone); with none, they are told privately what to do instead.
- **A file.** A file shared in an incident's room (its private channel, or where it is
  worked) is fetched through the neutral ``Transport.download``, reading at most
  :data:`MAX_FILE_BYTES`, hashed off the event loop and recorded: name, size, SHA-256,
  who shared it and when. A bigger file is recorded by name and size, saying it was
  too big to hash.

Either is recorded once per incident (``incident_evidence``, UNIQUE on the platform's
key), so a retry or a second click adds nothing. The message text is never logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import DeliveryFailed, Turn
from bot.core.actions import button_value, value_parts, verb
from bot.core.hints import typed
from bot.core.inert import one_line
from bot.core.model import Actions, Actor, Button, FileRef, Message, Section, SharedMessage
from bot.storage.sql import atomic
from incidents import cards
from incidents.desk.job import DeskJob
from incidents.store import Incident
from incidents.store.evidence import Clip, Evidence, EvidenceStore

log = logging.getLogger(__name__)

TIMELINE = "incident.timeline"  # action namespace: add (a shared message), pick (an incident)
MAX_FILE_BYTES = 20 * 1024 * 1024  # read and hash at most this much of a shared file
MAX_WORDS = 700  # of a copied message on the timeline (its entries hold 1,000 characters)
CLIP_KEPT = timedelta(days=1)  # a copy waiting for its person to pick an incident
LONDON = ZoneInfo("Europe/London")


def london(at: datetime) -> str:
    """ "Fri 4 Dec 2026, 19:05 GMT". (A copy of ``incidents.times.london`` until it lands.)"""
    local = at.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def size_words(size: int | None) -> str:
    if size is None:
        return "size unknown"
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class EvidenceDesk(DeskJob):
    """Messages and files kept as evidence, each on the incident's timeline."""

    def __init__(self, desk):
        super().__init__(desk)
        self.kept = EvidenceStore(self.services.db)

    # --- a message, from the shortcut or message action ----------------------------------

    async def action(self, turn: Turn) -> None:
        kind = verb(turn.incoming.action_id)
        if kind == "add" and turn.incoming.shared is not None:
            await self.on_shared(turn, turn.incoming.shared)
        elif kind == "pick":
            await self.on_pick(turn)
        else:
            await turn.reply(cards.note("That button is no longer active.", private=True))

    async def author_name(self, turn: Turn, author: Actor) -> str:
        """The author by name (looked up and cached like everyone on an incident); an app
        or a web chat person with no id is named as the platform named them."""
        if not author.user_id:
            return author.name or "someone"
        return await self.desk.names.name(
            author.platform, turn.place.workspace, author.user_id, hint=author.name,
            where=turn.place,
        )  # fmt: skip

    async def on_shared(self, turn: Turn, shared: SharedMessage) -> None:
        name = await self.author_name(turn, shared.author)
        clip = Clip(
            source=f"message:{shared.key}",
            author=name,
            at=london(shared.at) if shared.at else "",
            link=shared.link,
            text=one_line(shared.text, MAX_WORDS),
        )
        mine = await self.desk.access.open_for(turn.actor, turn.place)
        if not mine:
            await turn.reply(
                cards.note(
                    "You're not on any open incident here, so there's no timeline to add "
                    "that message to. To report a compromised account, type "
                    f"{typed(turn.place, 'compromised')}. If you should be on an incident, "
                    "ask its commander to add you.",
                    private=True,
                )
            )
            return
        named = [i for i in mine if shared.incident and i.id == shared.incident.upper()]
        if len(mine) == 1 or named:
            await self.add_clip(turn, (named or mine)[0], clip)
            return
        clip_id = await self.kept.keep_clip(turn.actor.key, clip, self.desk.now())
        shown = mine[-10:]  # the newest; a button row holds a few
        buttons = tuple(
            Button(inc.id, f"{TIMELINE}:pick", button_value(clip_id, inc.id)) for inc in shown
        )
        lines = "\n".join(
            f"{inc.id}: {cards.platform_label(inc)} {cards.account_label(inc)}" for inc in shown
        )
        how = (
            "Use Add to incident timeline again and type one of these ids in its Incident id box."
            if turn.place.platform == "teams"  # the message action's dialog shows no buttons
            else "Choose one below."
        )
        words = (
            f"You're on {len(mine)} open incidents. Which timeline should the message from "
            f"{name} go on?\n{lines}\n{how}"
        )
        await turn.reply(Message(words, (Section(words), Actions(buttons)), private=True))

    async def on_pick(self, turn: Turn) -> None:
        parts = value_parts(turn.incoming.value, 2)
        clip = None
        if parts and parts[0].isdigit():
            clip = await self.kept.clip(int(parts[0]), turn.actor.key)
        if parts is None or clip is None:
            await turn.reply(
                cards.note(
                    "That choice has expired. Use Add to incident timeline on the message again.",
                    private=True,
                )
            )
            return
        inc = await self.desk.find(turn, parts[1])
        if inc is None:
            return
        await self.add_clip(turn, inc, clip, replace=True)
        await self.kept.drop_clip(int(parts[0]))

    async def add_clip(self, turn: Turn, inc: Incident, clip: Clip, replace: bool = False) -> None:
        when = f" at {clip.at}" if clip.at else ""
        entry = f"Message from {clip.author}{when}: “{clip.text}”"
        if clip.link:
            entry += f" ({clip.link})"
        item = Evidence(
            incident_id=inc.id, kind="message", source=clip.source, name=clip.author,
            size=None, sha256=None, by_key=turn.actor.key,
            by_name=turn.actor.name or turn.actor.user_id, at=self.desk.now(),
        )  # fmt: skip
        async with atomic(self.services.db):
            added = await self.kept.add(item)
            if added:
                await self.desk.event(inc, turn.actor, "message", entry[:1000])
        said = (
            f"Added to the {inc.id} timeline: the message from {clip.author}{when}."
            if added
            else f"That message is already on the {inc.id} timeline."
        )
        reply = cards.note(said, private=True)
        if replace:
            await turn.update_original(reply)
        else:
            await turn.reply(reply)

    # --- files shared in an incident's room ------------------------------------------------

    async def on_files(self, turn: Turn) -> bool:
        """Files shared in a conversation: kept when it is an open incident's room and
        the person is on that incident; otherwise not ours (False, nothing said)."""
        files = turn.incoming.files
        if not files:
            return False
        inc = None
        for candidate in await self.store.latest_open_in(turn.place):
            if await self.desk.access.may_see(turn.actor, turn.place, candidate):
                inc = candidate
                break
        if inc is None:
            return False
        lines = []
        for file in files[:10]:
            line = await self.keep_file(turn, inc, file)
            if line:
                lines.append(line)
        if lines:
            await turn.reply(cards.note(f"{cards.drill(inc)}Kept as evidence for {inc.id}:\n"
                                        + "\n".join(lines)))  # fmt: skip
        return True

    async def keep_file(self, turn: Turn, inc: Incident, file: FileRef) -> str | None:
        """Fetch, hash and record one file; the line that says so, or None when it was
        recorded already."""
        name = one_line(file.name or "unnamed file", 200)
        size, digest, why = file.size, None, ""
        transport = self.services.transports.get(file.platform)
        if file.size is not None and file.size > MAX_FILE_BYTES:
            why = f"too big to hash here (over {size_words(MAX_FILE_BYTES)})"
        elif transport is None:
            why = "not fetched: this platform can't hand files over"
        else:
            try:
                data = await transport.download(file, MAX_FILE_BYTES)
            except DeliveryFailed as e:
                log.warning("could not fetch a shared file (%s)", e.reason)
                why = "the platform would not hand it over, so it has no hash"
            else:
                if data is None:
                    why = f"too big to hash here (over {size_words(MAX_FILE_BYTES)})"
                else:
                    size = len(data)
                    digest = await asyncio.to_thread(_sha256, data)
        item = Evidence(
            incident_id=inc.id, kind="file", source=f"file:{file.platform}:{file.id}",
            name=name, size=size, sha256=digest, by_key=turn.actor.key,
            by_name=turn.actor.name or turn.actor.user_id, at=self.desk.now(),
        )  # fmt: skip
        told = f"{name} ({size_words(size)}): " + (f"SHA-256 {digest}" if digest else why)
        async with atomic(self.services.db):
            if not await self.kept.add(item):
                return None
            await self.desk.event(inc, turn.actor, "evidence-file", f"File {told}")
        return told

    async def tidy(self) -> None:
        """Copies nobody picked an incident for, a day on: the words are not kept."""
        await self.kept.prune_clips(self.desk.now() - CLIP_KEPT)
