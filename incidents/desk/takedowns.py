"""Impersonation takedowns (issue 16 item 5): each fake account is a tracked item.

For an impersonation incident the card has a "Fake accounts" button (and
``/compromised takedown <id>`` shows the same): a message listing each fake account
reported to its platform (platform, URL, the date it was reported, the platform's
reference number, and its status: reported, under review, removed or refused), with
buttons to move each one on and a small form to add another.

Forty-eight hours after a report (or after it went under review) with no outcome, the
incident's room is reminded to chase it, once (``incident_takedowns.chase_at``, claimed
atomically by :class:`TakedownChaser`, so a restart or a second process never sends it
twice). The reminder gives the platform's escalation route for verified government
accounts only where one is on record in :data:`ESCALATION_ROUTES`, which holds only
routes with a published source (``shared/content-facts.md``); today none is, and the
reminder says so rather than guess. Every change goes on the timeline.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.core import DeliveryFailed, Turn
from bot.core.actions import button_value, value_parts, verb
from bot.core.hints import typed
from bot.core.inert import one_line
from bot.core.model import Actions, Button, Context, Heading, Message, Section, TextInput
from bot.storage.sql import atomic
from bot.workers import Worker
from incidents import cards
from incidents.desk.evidence import LONDON
from incidents.desk.job import DeskJob
from incidents.store import BOT, Incident
from incidents.store.takedowns import (
    REFUSED,
    REMOVED,
    REPORTED,
    REVIEW,
    SETTLED,
    Takedown,
    Takedowns,
)
from incidents.triage import PLATFORM_ALIASES, PLATFORM_LABELS

if TYPE_CHECKING:
    from bot.core import Services

log = logging.getLogger(__name__)

TAKEDOWN = "incident.takedown"  # action namespace: show, add, status
CHASE_AFTER = timedelta(hours=48)
CHASE_EVERY_SECONDS = 60.0  # how often the chaser looks for due reminders
STATUS_LABELS = {
    REPORTED: "Reported",
    REVIEW: "Under review",
    REMOVED: "Removed",
    REFUSED: "Refused",
}
# The form's fields (TextInput names; what was typed arrives in Incoming.form).
F_PLATFORM, F_URL, F_REFERENCE, F_REPORTED = "platform", "url", "reference", "reported"
MAX_URL, MAX_REFERENCE, MAX_PLATFORM = 300, 100, 40
MAX_SHOWN = 10  # fake accounts shown with buttons in one message
# Escalation routes for verified government accounts, by platform, each with the
# source it comes from. Add one only from shared/content-facts.md; never guess one.
ESCALATION_ROUTES: dict[str, str] = {}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def platform_of(typed_platform: str, url: str) -> str:
    """A known platform key from what was typed or from the URL's host, else what was
    typed (inert, short), else "other"."""
    word = typed_platform.strip().lower()
    for candidate in (word, PLATFORM_ALIASES.get(word, "")):
        if candidate in PLATFORM_LABELS:
            return candidate
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if host in PLATFORM_ALIASES:
        return PLATFORM_ALIASES[host]
    if host.removesuffix(".com").removesuffix(".net") in PLATFORM_LABELS:
        return host.removesuffix(".com").removesuffix(".net")
    return one_line(typed_platform, MAX_PLATFORM) or "other"


def platform_words(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform)


def day_words(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def escalation(platform: str) -> str:
    route = ESCALATION_ROUTES.get(platform)
    if route:
        return f"Escalation route for verified government accounts: {route}"
    return (
        f"secbot has no escalation route on record for verified government accounts on "
        f"{platform_words(platform)}: chase through the platform's own report, quoting "
        "its reference number."
    )


class TakedownTracker(DeskJob):
    """The fake accounts of impersonation incidents, and their chase reminders."""

    def __init__(self, desk):
        super().__init__(desk)
        self.items = Takedowns(self.services.db)

    # --- showing ------------------------------------------------------------------------

    async def message(self, inc: Incident) -> Message:
        items = await self.items.of(inc.id)
        title = f"{cards.drill(inc)}Fake accounts reported: {inc.id}"
        blocks: list = [Heading(title)]
        lines = []
        for n, item in enumerate(items, 1):
            line = (
                f"{n}. {platform_words(item.platform)}: {item.url}\n"
                f"Reported {day_words(item.reported_on)} · reference "
                f"{item.reference or 'none yet'} · {STATUS_LABELS.get(item.status, item.status)}"
            )
            lines.append(line)
            if n > MAX_SHOWN:
                continue
            blocks.append(Section(line))
            if item.status not in SETTLED and inc.is_open:
                moves = [s for s in (REVIEW, REMOVED, REFUSED) if s != item.status]
                blocks.append(
                    Actions(
                        tuple(
                            Button(
                                STATUS_LABELS[s],
                                f"{TAKEDOWN}:status",
                                button_value(inc.id, item.id, s),
                                "primary" if s == REMOVED else None,
                                accessibility_label=f"{STATUS_LABELS[s]}: fake account {n}",
                            )
                            for s in moves
                        )
                    )
                )
        if not items:
            blocks.append(Section("No fake accounts recorded yet. Add each one you report."))
        if inc.is_open:
            blocks += [
                Section("Add a fake account you have reported to its platform:"),
                TextInput(F_URL, "Link to the fake account", "https://…", MAX_URL),
                TextInput(F_PLATFORM, "Platform (if the link doesn't say)", "X", MAX_PLATFORM),
                TextInput(F_REFERENCE, "The platform's reference number", "", MAX_REFERENCE),
                TextInput(F_REPORTED, "Date reported (YYYY-MM-DD; empty for today)", "", 10),
                Actions((Button("Add fake account", f"{TAKEDOWN}:add", inc.id, "primary"),)),
            ]
        blocks.append(
            Context(
                (
                    "Each report is chased after 48 hours without an outcome. "
                    + escalation(inc.platform or ""),
                )
            )
        )
        text = title + ("\n" + "\n".join(lines) if lines else ": none yet")
        return Message(text, tuple(blocks))

    async def command(self, turn: Turn, rest: str) -> None:
        """``/compromised takedown <id>``: the tracker, posted where it was asked for."""
        inc = await self.desk.find(turn, rest.split()[0] if rest.split() else "")
        if inc is not None:
            await turn.reply(await self.message(inc))

    # --- buttons --------------------------------------------------------------------------

    async def action(self, turn: Turn) -> None:
        kind = verb(turn.incoming.action_id)
        parts = list(value_parts(turn.incoming.value) or ())
        if kind not in ("show", "add", "status") or not parts or not parts[0]:
            await turn.reply(cards.note("That button is no longer active.", private=True))
            return
        inc = await self.desk.find(turn, parts[0])
        if inc is None:
            return
        if kind == "show":
            await turn.reply(await self.message(inc))
        elif kind == "add":
            await self.on_add(turn, inc)
        else:
            await self.on_status(turn, inc, parts[1:])

    async def on_add(self, turn: Turn, inc: Incident) -> None:
        form = turn.incoming.form
        url = one_line(form.get(F_URL, ""), 1000).strip()
        reference = one_line(form.get(F_REFERENCE, ""), 1000).strip()
        problem = self.check(url, reference, form.get(F_REPORTED, ""))
        if not inc.is_open:
            problem = f"{inc.id} is closed, so nothing more can be added to it."
        if problem:
            await turn.reply(cards.note(problem, private=True))
            return
        now = self.desk.now()
        reported_on = self.reported_on(form.get(F_REPORTED, ""), now)
        platform = platform_of(form.get(F_PLATFORM, ""), url)
        reported_at = datetime.combine(reported_on, now.astimezone(LONDON).timetz())
        async with atomic(self.services.db):
            item, new = await self.items.add(
                inc.id, platform=platform, url=url, reported_on=reported_on,
                reference=reference or None, by_key=turn.actor.key,
                by_name=turn.actor.name or turn.actor.user_id, now=now,
                chase_at=max(now, reported_at + CHASE_AFTER),
            )  # fmt: skip
            if new:
                ref = f", reference {item.reference}" if item.reference else ""
                await self.desk.event(
                    inc, turn.actor, "takedown",
                    f"Fake account on {platform_words(platform)} reported for takedown: "
                    f"{url} (reported {day_words(reported_on)}{ref})",
                )  # fmt: skip
        await self.desk.update(turn.incoming.message, await self.message(inc), turn)
        if turn.incoming.message is None:
            await turn.reply(await self.message(inc))

    def check(self, url: str, reference: str, reported: str) -> str | None:
        """A friendly refusal for a form that can't be kept, else None."""
        parts = urlsplit(url) if url else None
        if not url or parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            return (
                "Give the link to the fake account, starting https://, for example "
                "https://x.com/fake_dhsc. Nothing was added."
            )
        if len(url) > MAX_URL:
            return f"That link is too long: keep it under {MAX_URL} characters. Nothing was added."
        if len(reference) > MAX_REFERENCE:
            return (
                f"That reference is too long: keep it under {MAX_REFERENCE} characters. "
                "Nothing was added."
            )
        words = reported.strip()
        if words:
            try:
                day = date.fromisoformat(words) if _DATE.match(words) else None
            except ValueError:
                day = None
            if day is None:
                return (
                    "Write the date it was reported as YYYY-MM-DD (for example 2026-12-04), "
                    "or leave it empty for today. Nothing was added."
                )
            if day > self.desk.now().astimezone(LONDON).date():
                return "The date reported can't be in the future. Nothing was added."
        return None

    @staticmethod
    def reported_on(words: str, now: datetime) -> date:
        words = words.strip()
        return date.fromisoformat(words) if words else now.astimezone(LONDON).date()

    async def on_status(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in STATUS_LABELS:
            await turn.reply(cards.note("That button is no longer active.", private=True))
            return
        item = await self.items.get(int(parts[0]))
        if item is None or item.incident_id != inc.id:
            await turn.reply(cards.note("That button is no longer active.", private=True))
            return
        status, now = parts[1], self.desk.now()
        chase = None if status in SETTLED else now + CHASE_AFTER
        async with atomic(self.services.db):
            if await self.items.set_status(item.id, status, now, chase):
                await self.desk.event(
                    inc, turn.actor, "takedown-status",
                    f"Takedown of the fake {platform_words(item.platform)} account {item.url}: "
                    f"{STATUS_LABELS[status].lower()}",
                )  # fmt: skip
        await self.desk.update(turn.incoming.message, await self.message(inc), turn)

    # --- the chase reminder ------------------------------------------------------------------

    async def chase_round(self) -> float | None:
        """Send every due chase reminder once; returns None (the usual wait)."""
        now = self.desk.now()
        for item in await self.items.due(now):
            inc = await self.store.get(item.incident_id)
            if inc is None or not inc.is_open:
                await self.items.claim(item, now)  # nothing to chase any more
                continue
            async with atomic(self.services.db):
                if not await self.items.claim(item, now):
                    continue
                await self.desk.event(
                    inc, BOT, "takedown-chase",
                    f"Reminder to chase the {platform_words(item.platform)} report of "
                    f"{item.url} ({STATUS_LABELS.get(item.status, item.status).lower()})",
                )  # fmt: skip
            await self.remind(inc, item)
        await self.desk.evidence.tidy()
        return None

    async def remind(self, inc: Incident, item: Takedown) -> None:
        commander = inc.commander_name or inc.commander
        # The day it happened, not "48 hours ago": a report typed in days after it was
        # made to the platform is chased at once.
        if item.status == REPORTED:
            since = f"was reported on {day_words(item.reported_on)}"
        else:
            since = f"went under review on {day_words(item.updated_at.astimezone(LONDON).date())}"
        words = (
            f"{cards.drill(inc)}{inc.id}: time to chase the fake account on "
            f"{platform_words(item.platform)}, {item.url}. It {since} and the "
            f"platform has not settled it (reference {item.reference or 'none recorded'}). "
            f"{commander}, please chase it and record the outcome."
        )
        msg = Message(
            words,
            (
                Section(words),
                Actions(
                    (Button("Show fake accounts", f"{TAKEDOWN}:show", inc.id),)
                ),
                Context((escalation(item.platform),
                         typed(inc.origin, f"compromised takedown {inc.id}"))),
            ),
        )  # fmt: skip
        try:
            await self.desk.post(inc.room or inc.origin, msg)
        except DeliveryFailed as e:
            # Claimed and on the timeline already: a failed post is not sent again.
            log.warning("could not post a takedown reminder for %s: %s", inc.id, e.reason)


def chase_worker(services: Services, tracker: TakedownTracker) -> Worker:
    return Worker(
        "incident-takedown-chase",
        tracker.chase_round,
        every=CHASE_EVERY_SECONDS,
        clock=services.clock,
    )
