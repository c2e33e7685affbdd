"""Holding statements: a ready-made public line per situation, edited by the team,
approved by the press office with a button, and only then marked as posted.

``/compromised holding <id>`` (or the card's "Holding statement" button) offers the
situations; choosing one drafts the line from incidents/data/holding_statements.yml and
posts it where the team works, with Edit, Approve and Mark as posted. Editing (the
form, or ``/compromised holding <id> <situation> <words>``) makes a new version, which
needs approving again; the Approve button names the version it was shown with, so
nobody approves words they have not seen. The approved words and who approved them go
on the timeline, and into the report. Who may approve: ``incidents.holding_statements``.
"""

from __future__ import annotations

from bot.core import Turn
from bot.core.actions import button_value
from bot.core.hints import typed
from bot.core.model import Actions, Button, Context, Heading, Message, Section, TextInput
from incidents import cards, holding_statements, text_limits
from incidents.desk.job import DeskJob
from incidents.store import Incident
from incidents.store.holding import APPROVED, DRAFT, POSTED, HoldingLine, HoldingStore
from incidents.times import london

TEXT_FIELD = "holding_text"  # the form field the edited words arrive in


class Holding(DeskJob):
    """Draft, edit, approve and post holding statements."""

    def __init__(self, desk):
        super().__init__(desk)
        self.lines = HoldingStore(self.services.db)

    # --- messages -------------------------------------------------------------------

    def chooser(self, inc: Incident) -> Message:
        text = (
            f"{cards.drill(inc)}Holding statement for {inc.id}: which situation? You can"
            " edit the words before the press office approves them."
        )
        buttons = tuple(
            Button(
                holding_statements.label(name),
                "incident:holding",
                button_value(inc.id, name),
                "primary" if i == 0 else None,
            )
            for i, name in enumerate(holding_statements.suggested(inc))
        )
        return Message(text, (Section(text), Actions(buttons)), private=True)

    def message(self, inc: Incident, line: HoldingLine) -> Message:
        label = holding_statements.label(line.situation)
        title = f"{cards.drill(inc)}Holding statement for {inc.id}: {label}"
        if line.status == POSTED:
            state = f"Posted, marked by {line.posted_by_name} at {_at(line.posted_at)}."
        elif line.status == APPROVED:
            state = (
                f"Approved by {line.approved_by_name} at {_at(line.approved_at)}."
                " Post it, then press Mark as posted."
            )
        else:
            who = f", edited by {line.edited_by_name}" if line.edited_by_name else ""
            state = f"Draft, version {line.version}{who}: waiting for the press office."
        value = button_value(inc.id, line.situation, line.version)
        blocks: list = [Heading(title), Section(line.text), Context((state,))]
        if line.status != POSTED:
            # The form: the words to edit, sent with "Save the words" (other buttons
            # ignore them). Approving or posting acts on the saved version only.
            label = "Edit the words" if line.status == DRAFT else (
                "Change the words (they then need approving again)"
            )  # fmt: skip
            blocks.append(
                TextInput(
                    TEXT_FIELD, label, multiline=True, initial=line.text,
                    max_length=holding_statements.TEXT_LIMIT,
                )
            )  # fmt: skip
            save = Button("Save the words", "incident:hold-edit", value)
            step = (
                Button("Approve", "incident:hold-approve", value, "primary")
                if line.status == DRAFT
                else Button("Mark as posted", "incident:hold-posted", value, "primary")
            )
            blocks.append(Actions((save, step)))
        if line.status != POSTED:
            how = typed(
                inc.room or inc.origin, f"compromised holding {inc.id} {line.situation} <new words>"
            )
            blocks.append(Context((f"Or type {how} to change the words.",)))
        return Message(f"{title}\n{line.text}\n{state}", tuple(blocks))

    # --- the command and the buttons --------------------------------------------------

    async def command(self, turn: Turn, rest: str) -> None:
        """``holding <id>`` offers the situations; ``holding <id> <situation>`` shows
        it; ``holding <id> <situation> <words>`` saves new words."""
        ident, _, rest = rest.strip().partition(" ")
        inc = await self.desk.find(turn, ident)
        if inc is None:
            return
        situation, _, words = rest.strip().partition(" ")
        if not situation:
            await turn.reply(self.chooser(inc))
        elif situation not in holding_statements.statements().situations:
            names = ", ".join(holding_statements.statements().situations)
            await turn.reply(
                cards.note(f"There is no holding statement called that. Choose: {names}.",
                           private=True)
            )  # fmt: skip
        elif words.strip():
            await self.save(turn, inc, situation, words, reply=True)
        else:
            await self.show(turn, inc, [situation])

    async def show(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        """A situation chosen: its draft (made from the ready-made words the first
        time), posted where the team can see it and the press office approve it."""
        if not parts or parts[0] not in holding_statements.statements().situations:
            await turn.reply(self.chooser(inc))
            return
        situation = parts[0]
        if await self.lines.draft(
            inc.id, situation, holding_statements.filled(inc, situation), self.desk.now()
        ):
            label = holding_statements.label(situation)
            await self.desk.event(inc, turn.actor, "holding", f"Holding statement drafted: {label}")
        line = await self.lines.get(inc.id, situation)
        assert line is not None
        await turn.reply(self.message(inc, line))

    async def on_edit(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        """The form's Save: the words typed into it."""
        words = turn.incoming.form.get(TEXT_FIELD, "")
        await self.save(turn, inc, parts[0] if parts else "", words, reply=False)

    async def save(
        self, turn: Turn, inc: Incident, situation: str, words: str, *, reply: bool
    ) -> None:
        refusal = text_limits.check(
            "holding statement", words, holding_statements.TEXT_LIMIT
        ) or (None if text_limits.clean(words) else "A holding statement cannot be empty.")
        if refusal:
            await turn.reply(cards.note(refusal, private=True))
            return
        text = text_limits.clean(words)
        if not await self.lines.edit(inc.id, situation, text, turn.actor, self.desk.now()):
            line = await self.lines.get(inc.id, situation)
            why = (
                "It has been posted already, so its words are on the record as they are."
                if line is not None
                else "Choose the situation first: "
                + typed(turn.place, f"compromised holding {inc.id}")
            )
            await turn.reply(cards.note(f"Those words were not saved. {why}", private=True))
            return
        label = holding_statements.label(situation)
        name = turn.actor.name or turn.actor.user_id
        await self.desk.event(
            inc, turn.actor, "holding", f"{name} edited the holding statement ({label})"
        )
        line = await self.lines.get(inc.id, situation)
        assert line is not None
        await self._redraw(turn, inc, line, reply)

    async def on_approve(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        situation, version = (parts + ["", ""])[:2]
        if not holding_statements.may_approve(turn.actor, inc, self.pager):
            office = holding_statements.press_office(self.pager)
            who = "the press office" if office else (
                f"the incident commander ({inc.commander_name or inc.commander})"
            )  # fmt: skip
            await turn.reply(
                cards.note(f"Only {who} can approve a holding statement.", private=True)
            )
            return
        number = int(version) if version.isdigit() else -1
        approved = await self.lines.approve(
            inc.id, situation, number, turn.actor, self.desk.now()
        )
        line = await self.lines.get(inc.id, situation)
        if line is None:
            return
        if not approved:
            if line.status != DRAFT:  # a second click: the first redrew the message
                await turn.reply(cards.note(_already(line), private=True))
                return
            note = (
                "The words changed since this was shown: read the new version below and"
                " approve that."
            )
            await turn.reply(cards.note(note, private=True))
            await turn.reply(self.message(inc, line))
            return
        name = turn.actor.name or turn.actor.user_id
        await self.desk.event(
            inc, turn.actor, "holding-approved",
            f"Holding statement ({holding_statements.label(situation)}) approved by"
            f" {name}: “{line.text}”",
        )  # fmt: skip
        await self._redraw(turn, inc, line, reply=False)

    async def on_posted(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        situation = parts[0] if parts else ""
        if not await self.lines.posted(inc.id, situation, turn.actor, self.desk.now()):
            line = await self.lines.get(inc.id, situation)
            if line is not None and line.status == POSTED:  # a second click
                await turn.reply(cards.note(_already(line), private=True))
                return
            state = line.status if line else "not drafted"
            await turn.reply(
                cards.note(
                    f"Only an approved holding statement can be marked as posted (this one"
                    f" is {state}).",
                    private=True,
                )
            )
            return
        line = await self.lines.get(inc.id, situation)
        assert line is not None
        name = turn.actor.name or turn.actor.user_id
        await self.desk.event(
            inc, turn.actor, "holding-posted",
            f"Holding statement ({holding_statements.label(situation)}) marked as posted by"
            f" {name}",
        )  # fmt: skip
        await self._redraw(turn, inc, line, reply=False)

    async def _redraw(self, turn: Turn, inc: Incident, line: HoldingLine, reply: bool) -> None:
        if reply or turn.incoming.message is None:
            await turn.reply(self.message(inc, line))
        else:
            await turn.update_original(self.message(inc, line))

    async def report_rows(self, incident_id: str) -> tuple[tuple[str, ...], ...]:
        """Each line for the report: situation, status, approved by (and when), posted
        (by and when), and the words."""
        rows = []
        for line in await self.lines.all(incident_id):
            approved = (
                f"{line.approved_by_name}, {_at(line.approved_at)}" if line.approved_at else "—"
            )
            posted = f"{line.posted_by_name}, {_at(line.posted_at)}" if line.posted_at else "—"
            rows.append(
                (holding_statements.label(line.situation), line.status, approved, posted,
                 line.text)
            )  # fmt: skip
        return tuple(rows)


def _at(when) -> str:
    return london(when) if when is not None else "—"


def _already(line: HoldingLine) -> str:
    """What a second click on Approve or Mark as posted is told."""
    if line.status == POSTED:
        return f"It was marked as posted already by {line.posted_by_name} at {_at(line.posted_at)}."
    return f"It was approved already by {line.approved_by_name} at {_at(line.approved_at)}."
