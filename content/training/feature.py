"""``/secbot training``: assign the exam, see a team's report, check who may post.

- ``training`` — your own assignment and when it is due;
- ``training assign team <name> by <date>`` or ``training assign @a @b by <date>`` —
  admins, and a team's leads for their own team (named in the teams file);
- ``training report <team>`` — a chat summary and a CSV, for admins and that team's leads;
- ``training teams`` — the teams you may assign and report on.
- ``training check`` points to ``access check`` (``incidents/reviews``), which needs the
  register: everyone with access to a registered account has a current pass.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.core import Turn
from bot.core.hints import typed
from bot.core.model import Heading, Message, Section
from bot.core.tenancy import tenant_of
from bot.core.training import TrainingRecords
from bot.workers import Worker
from content.training import audit_trail, records, reporting
from content.training import report as team_report
from content.training.nudges import LONDON, Nudger, long_date, plan
from content.training.people import name_of, parse_person, resolve
from content.training.store import Assignee, TrainingStore
from content.training.teams import TeamsFile, load_teams
from content.training.xapi import LrsOutbox

if TYPE_CHECKING:
    from bot.core.features import FeatureHost
    from bot.core.turn import Services

log = logging.getLogger(__name__)

MAX_PEOPLE = 50  # named one by one in a command; more: use a team
LOOKUPS = 8  # names looked up at once when a team is assigned
LATEST_DUE = timedelta(days=366)
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y")


def _say(text: str, heading: str = "") -> Message:
    blocks = ((Heading(heading),) if heading else ()) + (Section(text),)
    return Message(text, blocks, private=True)


def _typed(turn: Turn, words: str) -> str:
    return typed(turn.place, words, slack_command="secbot")


def parse_due(text: str, today: date) -> date | str:
    """The due date, or why it can't be one (a friendly sentence)."""
    text = " ".join(text.split())
    for fmt in _DATE_FORMATS:
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if day < today:
            return f"{long_date(day)} has passed already: choose a date from today on."
        if day > today + LATEST_DUE:
            return "That's more than a year away: choose a date within the next year."
        return day
    return f"“{text[:30]}” isn't a date I understand. Write it like 2026-12-18 or 18 December 2026."


class Training:
    """The command, the assignments and the reminders' worker."""

    def __init__(self, services: Services, teams: TeamsFile):
        self.services = services
        self.teams = teams
        self.store = TrainingStore(services.db)
        self.nudger = Nudger(services, self.store)
        self.worker: Worker | None = None

    def now(self) -> datetime:
        return self.services.clock.now()

    async def command(self, turn: Turn) -> None:
        verb, _, rest = turn.args.strip().partition(" ")
        verb = verb.lower()
        if verb in ("", "me", "status"):
            await self.mine(turn)
        elif verb == "assign":
            await self.assign(turn, rest.strip())
        elif verb == "report":
            await self.report(turn, rest.strip())
        elif verb == "teams":
            await self.list_teams(turn)
        elif verb == "check":
            await turn.reply(
                _say(
                    "Who has access to a registered account without a current pass is in"
                    f" {_typed(turn, 'access check')} (secbot admins)."
                )
            )
        else:
            await turn.reply(
                _say(
                    f"I don't know “{verb[:20]}” here. Type {_typed(turn, 'training')} for yours,"
                    f" {_typed(turn, 'training assign team <name> by 2026-12-18')},"
                    f" {_typed(turn, 'training report <team>')}"
                    f" or {_typed(turn, 'training check')}."
                )
            )

    # --- who may do what ---------------------------------------------------------------

    def may_lead(self, turn: Turn, team: str) -> bool:
        if self.services.is_admin(turn.actor):
            return True
        found = self.teams.team(team)
        return found is not None and found.led_by(turn.actor.key)

    async def refuse_team(self, turn: Turn, team: str) -> None:
        """The same words for a team that does not exist and one you don't lead."""
        await turn.reply(
            _say(
                f"You can only do that for a team you lead. Type {_typed(turn, 'training teams')}"
                " to see yours; secbot admins can do it for any team."
            )
        )

    # --- your own ----------------------------------------------------------------------

    async def mine(self, turn: Turn) -> None:
        a = await self.store.of_person(tenant_of(turn.place), turn.actor.key)
        exam = typed(turn.place, "quiz exam")
        if a is None:
            text = f"No training is assigned to you. You can take the exam any time: type {exam}."
        else:
            status = team_report.status_of(
                a, (await self._passes([a.user_key])).get(a.user_key), self.now()
            )
            if status == team_report.PASSED:
                text = f"You've passed the exam that was due by {long_date(a.due_on)}. Thank you."
            elif status == team_report.OVERDUE:
                text = (
                    f"Your security exam was due by {long_date(a.due_on)}."
                    f" Type {exam} to take it now."
                )
            else:
                text = (
                    f"Your security exam is due by {long_date(a.due_on)}. Type {exam} to take it."
                )
        await turn.reply(_say(text))

    async def current_passes(self, keys: Sequence[str]) -> dict[str, datetime]:
        """:class:`bot.core.training.TrainingRecords`: passes still in date, by key."""
        _, passes = await records.latest(self.services.db, list(keys))
        now = self.now()
        return {k: p.completed_at for k, p in passes.items() if p.refresher_due > now}

    async def _passes(self, keys: list[str]) -> dict[str, records.Attempt]:
        _, passes = await records.latest(self.services.db, keys)
        return passes

    # --- assigning ---------------------------------------------------------------------

    async def assign(self, turn: Turn, rest: str) -> None:
        example = _typed(turn, "training assign team social-media by 2026-12-18")
        parts = re.split(r"\s(?:by|due)\s", f" {rest} ", maxsplit=1)
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            await turn.reply(_say(f"Say who and by when, for example {example}."))
            return
        who, when = parts[0].split(), parts[1].strip()
        today = self.now().astimezone(LONDON).date()
        due = parse_due(when, today)
        if isinstance(due, str):
            await turn.reply(_say(f"{due} For example: {example}."))
            return
        if who[0].lower() == "team":
            if len(who) != 2:
                await turn.reply(_say(f"Name one team, for example {example}."))
                return
            await self._assign_team(turn, who[1].lower(), due)
        else:
            await self._assign_people(turn, who, due)

    async def _assign_team(self, turn: Turn, name: str, due: date) -> None:
        team = self.teams.team(name)
        if not self.may_lead(turn, name):
            await self.refuse_team(turn, name)
            return
        if team is None:
            await turn.reply(
                _say(
                    f"There's no team called “{name[:40]}” in the teams file. Type"
                    f" {_typed(turn, 'training teams')} to see the teams."
                )
            )
            return
        here = [m for m in team.members if m.platform == turn.place.platform]
        elsewhere = len(team.members) - len(here)
        people = [(m.id, m.name) for m in here]
        count, new = await self._store(turn, people, name, due)
        await audit_trail.assigned(turn, f"team {name}, {count} people, due {due.isoformat()}")
        note = (
            f" {elsewhere} member{'s are' if elsewhere != 1 else ' is'} on another chat platform:"
            " assign them from there."
            if elsewhere
            else ""
        )
        await turn.reply(
            _say(
                f"Assigned the security exam to {count} {'person' if count == 1 else 'people'}"
                f" in {name}, due by {long_date(due)} ({new} newly). They'll be reminded on"
                f" working days before and after the date.{note}",
                "Training assigned",
            )
        )

    async def _assign_people(self, turn: Turn, words: list[str], due: date) -> None:
        if len(words) > MAX_PEOPLE:
            await turn.reply(_say(f"Name up to {MAX_PEOPLE} people at once, or assign a team."))
            return
        people: list[tuple[str, str]] = []
        for word in words:
            found = parse_person(word, turn.place.platform, turn.incoming.mentions)
            if found is None or found[0].partition(":")[0] != turn.place.platform:
                await turn.reply(
                    _say(f"I can't tell who “{word[:40]}” is. Mention them, like @their-name.")
                )
                return
            people.append(await resolve(turn, *found))
        if not self.services.is_admin(turn.actor):
            led = [self.teams.team(n) for n in self.teams.led_by(turn.actor.key)]
            members = set().union(*(t.keys() for t in led if t is not None))
            if not led or any(k not in members for k, _ in people):
                await turn.reply(
                    _say(
                        "Only secbot admins can assign the exam to anyone; a team lead can"
                        " assign it to people in their own team."
                    )
                )
                return
        count, new = await self._store(turn, people, "", due)
        await audit_trail.assigned(turn, f"{count} named people, due {due.isoformat()}")
        await turn.reply(
            _say(
                f"Assigned the security exam to {count} {'person' if count == 1 else 'people'},"
                f" due by {long_date(due)} ({new} newly). They'll be reminded on working days"
                " before and after the date.",
                "Training assigned",
            )
        )

    async def _store(
        self, turn: Turn, people: list[tuple[str, str]], team: str, due: date
    ) -> tuple[int, int]:
        now, settings = self.now(), self.services.settings
        nudges = plan(
            due,
            now,
            hour=settings.training_nudge_hour,
            every=settings.training_nudge_days,
            after=settings.training_nudges_after,
        )
        gate = asyncio.Semaphore(LOOKUPS)
        origin = turn.place.to_json()  # reminders reach each person from here

        async def one(key: str, given: str) -> Assignee:
            # A name in the teams file saves a lookup (a large team on Slack would
            # otherwise wait on users.info's rate limit); else the platform's name.
            name = given or self.teams.name_in_file(key)
            if not name:
                async with gate:
                    name = await name_of(turn, key)
            return Assignee(key, name, origin, nudges)

        unique = list(dict.fromkeys(people))
        assignees = await asyncio.gather(*(one(k, n) for k, n in dict(unique).items()))
        new = await self.store.assign(
            tenant_of(turn.place),
            list(assignees),
            team=team,
            due_on=due,
            by=turn.actor.key,
            by_name=turn.actor.name,
            now=now,
        )
        if self.worker is not None:
            self.worker.wake()
        return len(assignees), new

    # --- reports -----------------------------------------------------------------------

    async def list_teams(self, turn: Turn) -> None:
        await reporting.list_teams(self, turn)

    async def report(self, turn: Turn, name: str) -> None:
        await reporting.report(self, turn, name)


def setup(host: FeatureHost) -> None:
    services = host.services
    training = Training(services, load_teams(services.settings.people_teams))
    services.provide(training)
    services.provide(training, as_type=TrainingRecords)
    host.registry.add_command(
        "training",
        "Assigned training: your exam due date; admins and team leads assign and report",
        training.command,
        usage="training [assign … by <date> | report <team> | teams | check]",
    )
    training.worker = Worker(
        "training reminders", training.nudger.step, every=60, clock=services.clock
    )
    host.add_worker(training.worker)
    if services.settings.lrs_url:
        outbox = LrsOutbox(services, services.settings.lrs_url)
        services.provide(outbox)
        host.add_worker(Worker("xAPI statements", outbox.step, every=60, clock=services.clock))
