"""``training teams`` and ``training report <team>``: the chat summary, and the CSV of
everyone (sent only in a direct chat, because it names people). The data is
:mod:`content.training.report`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.hints import typed
from bot.core.model import Context, Heading, Message, Section
from bot.core.tenancy import tenant_of
from content.training import report as team_report
from content.training.nudges import LONDON

if TYPE_CHECKING:
    from bot.core import Turn
    from content.training.feature import Training


def _say(text: str, heading: str = "") -> Message:
    blocks = ((Heading(heading),) if heading else ()) + (Section(text),)
    return Message(text, blocks, private=True)


def _typed(turn: Turn, words: str) -> str:
    return typed(turn.place, words, slack_command="secbot")


async def list_teams(self: Training, turn: Turn) -> None:
    names = (
        sorted(self.teams.teams)
        if self.services.is_admin(turn.actor)
        else self.teams.led_by(turn.actor.key)
    )
    if not names:
        await turn.reply(_say("There are no teams you can assign training to."))
        return
    lines = [f"{n}: {len(self.teams.teams[n].members)} people" for n in names]
    await turn.reply(_say("\n".join(lines), "Teams"))


async def report(self: Training, turn: Turn, name: str) -> None:
    name = name.lower()
    if not name:
        await turn.reply(
            _say(f"Say which team, for example {_typed(turn, 'training report social-media')}.")
        )
        return
    if not self.may_lead(turn, name):
        await self.refuse_team(turn, name)
        return
    team = self.teams.team(name)
    tenant = tenant_of(turn.place)
    assigned = {a.user_key: a for a in await self.store.of_team(tenant, name)}
    people: dict[str, str] = {k: a.user_name for k, a in assigned.items()}
    if team is not None:
        for m in team.members:
            if m.platform == turn.place.platform:
                people.setdefault(m.id, m.name or "")
    if not people:
        await turn.reply(_say(f"There's nobody in “{name[:40]}” to report on."))
        return
    keys = list(people)
    assignments = {**assigned, **(await self.store.of_people(tenant, keys))}
    named = [
        (
            k,
            assignments[k].user_name
            if k in assignments
            else (people[k] or "someone not assigned yet"),
        )
        for k in keys
    ]
    data = await team_report.build(
        self.services.db, name, named, assignments, self.now(), self.services.content
    )
    lines = team_report.summary_lines(data)
    overdue, more = team_report.overdue_names(data)
    if overdue:
        lines.append("Overdue: " + ", ".join(overdue) + (f" and {more} more." if more else "."))
    stamp = self.now().astimezone(LONDON).strftime("%Y-%m-%d")
    filename = f"training-{name}-{stamp}.csv"
    text = "\n".join(lines)
    # The CSV names everyone: it goes only into a direct chat with the asker.
    where = (
        f"Every person is in {filename}, below."
        if turn.place.is_direct
        else "For the CSV of every person, ask in your direct chat with secbot."
    )
    await turn.reply(
        Message(
            f"Training report for {name}\n{text}\n{where}",
            (
                Heading(f"Training report: {name}"),
                *(Section(line) for line in lines),
                Context((where,)),
            ),
            private=True,
        )
    )
    transport = self.services.transports.get(turn.place.platform)
    if transport is not None and turn.place.is_direct:
        await transport.upload(turn.place, filename, team_report.to_csv(data))
