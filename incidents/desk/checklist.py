"""The checklist: a step done, skipped (with a reason), assigned, or flagged "Need
help"; the phase shown; and the confirmation before closing with steps still open.

Buttons ``incident:done|skip|reason|assign|step|phase|close`` and ``/compromised
skip`` ("Need help" is ``help_requests.py``). A step is named by its number on the
checklist (or, from older buttons and commands, its id). Each change goes on the
timeline and may move the incident's status on.
"""

from __future__ import annotations

import logging

from bot.core import Turn
from bot.core.actions import button_value
from bot.core.hints import typed
from bot.core.model import Actions, Button, Message, Section
from incidents import cards, checklist_view, text_limits
from incidents.checklist_phases import ORDER, phase_of, title
from incidents.desk.job import DeskJob
from incidents.store import BOT, Incident, StepState

log = logging.getLogger(__name__)
# Open steps listed in a close confirmation; more are counted.
MAX_LISTED_OPEN = 20


class Checklist(DeskJob):
    """Done, skip, reason, assign, need help and the phase shown, on checklist steps."""

    async def message(self, inc: Incident) -> Message:
        """The checklist as it stands (``incidents.checklist_view``)."""
        steps = await self.store.steps.all(inc.id)
        chosen = await self.store.steps.chosen_phase(inc.id)
        return checklist_view.checklist(inc, steps, self.desk.tz, chosen)

    async def find_step(self, inc: Incident, ref: str) -> StepState | None:
        """The step named by its number on the checklist, or by its id."""
        steps = await self.store.steps.all(inc.id)
        if ref.isascii() and ref.isdigit():
            number = checklist_view.numbers(steps)
            return next((s for s in steps if number[s.step_id] == int(ref)), None)
        return next((s for s in steps if s.step_id == ref), None)

    async def open_step(self, turn: Turn, inc: Incident, parts: list[str]) -> StepState | None:
        """The step ``parts[0]`` names, on an open incident; otherwise says why not."""
        step = await self.find_step(inc, parts[0]) if parts else None
        if step is None:
            count = len(await self.store.steps.all(inc.id))
            await turn.reply(
                cards.note(
                    f"{inc.id} has no step “{(parts[0] if parts else '')[:40]}”."
                    + (f" Its steps are numbered 1 to {count} on the checklist." if count else ""),
                    private=True,
                )
            )
            return None
        if not inc.is_open:
            await turn.reply(cards.note(f"{inc.id} is closed.", private=True))
            return None
        return step

    async def number(self, inc: Incident, step: StepState) -> int:
        return checklist_view.numbers(await self.store.steps.all(inc.id))[step.step_id]

    async def after_step(self, turn: Turn | None, inc: Incident) -> None:
        changed = await self.store.advance_status(inc.id, self.desk.now())
        if changed:
            await self.desk.event(inc, BOT, "status", f"Status: {changed}")
        await self.desk.refresh(inc.id, turn, card=bool(changed))

    async def on_done(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        step = await self.open_step(turn, inc, parts)
        if step is None:
            return
        if await self.store.steps.resolve(
            inc.id, step.step_id, "done", turn.actor, self.desk.now()
        ):
            await self.desk.event(inc, turn.actor, "step", f"Done: “{step.text}”")
            await self.after_step(turn, inc)

    async def on_step(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        """A choice from a step's menu: Skip, Assign or Need help."""
        help_asked = self.desk.help_requests.on_help
        handler = {"skip": self.on_skip, "assign": self.assign_menu, "help": help_asked}.get(
            parts[1] if len(parts) == 2 else ""
        )
        if handler is None:
            await turn.reply(cards.note("That menu is no longer active.", private=True))
            return
        await handler(turn, inc, parts[:1])

    async def on_skip(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        step = await self.open_step(turn, inc, parts)
        if step is None:
            return
        if not step.is_open:
            await turn.reply(cards.note(await self.resolved_text(inc, step), private=True))
            return
        number = await self.number(inc, step)
        await turn.reply(checklist_view.skip_prompt(inc, step, number, turn.place))

    async def resolved_text(self, inc: Incident, step: StepState) -> str:
        how = "done" if step.status == "done" else f"skipped ({step.reason or 'no reason'})"
        return f"Step {await self.number(inc, step)}, “{step.text}”, is already {how}."

    async def on_reason(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        """A reason chosen from the skip menu. The menu then becomes a line of text
        saying what happened, so it can't be used twice."""
        step = await self.open_step(turn, inc, parts[:1])
        if step is None or len(parts) < 2:
            return
        code = parts[1]
        number = await self.number(inc, step)
        if code not in checklist_view.SKIP_LABELS or code == "other":
            await turn.reply(
                cards.note(
                    "Type the reason: "
                    + typed(turn.place, f"compromised skip {inc.id} {number} <reason>"),
                    private=True,
                )
            )
            return
        reason = checklist_view.SKIP_LABELS[code]
        skipped = await self.skip(turn, inc, step, reason)
        text = (
            f"Skipped step {number}, “{step.text}”: {reason}."
            if skipped
            else await self.resolved_text(
                inc, await self.store.steps.get(inc.id, step.step_id) or step
            )
        )
        clicked = turn.incoming.message
        if inc.checklist and clicked and clicked.id == inc.checklist.id:
            # Teams shows the menu in place of the checklist (for the clicking person
            # only): redrawing the checklist there is what makes it go.
            await self.after_step(turn, inc)
            return
        await turn.update_original(Message(text=text, blocks=(Section(text),), private=True))
        if skipped:
            await self.after_step(None, inc)

    async def skip(self, turn: Turn, inc: Incident, step: StepState, reason: str) -> bool:
        if not await self.store.steps.resolve(
            inc.id, step.step_id, "skipped", turn.actor, self.desk.now(), reason
        ):
            return False
        await self.desk.event(inc, turn.actor, "step", f"Skipped: “{step.text}” ({reason})")
        return True

    async def skip_step(self, turn: Turn, inc: Incident, step: StepState, reason: str) -> None:
        if await self.skip(turn, inc, step, reason):
            await self.after_step(None, inc)
            number = await self.number(inc, step)
            await turn.reply(
                cards.note(
                    f"Skipped step {number} on {inc.id}, “{step.text}”: {reason}", private=True
                )
            )
        else:
            await turn.reply(cards.note(await self.resolved_text(inc, step), private=True))

    async def assign_menu(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        step = await self.open_step(turn, inc, parts)
        if step is None:
            return
        number = await self.number(inc, step)
        people = await self.desk.handover.choices(turn)
        await turn.reply(checklist_view.assign_prompt(inc, step, number, turn.place, people))

    async def on_assign(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        """ "Assign to me"."""
        step = await self.open_step(turn, inc, parts)
        if step is None:
            return
        name = turn.actor.name or turn.actor.user_id
        if step.assignee == turn.actor.key:
            return  # a double click
        await self.store.steps.assign(inc.id, step.step_id, turn.actor.key, name, self.desk.now())
        await self.desk.event(inc, turn.actor, "assign", f"“{step.text}” given to {name}")
        clicked = turn.incoming.message
        if inc.checklist and clicked and clicked.id != inc.checklist.id:
            # From the private "who should do it" prompt: it says what happened.
            number = await self.number(inc, step)
            text = f"Step {number}, “{step.text}”, is now assigned to you."
            await turn.update_original(Message(text=text, blocks=(Section(text),), private=True))
            await self.desk.refresh(inc.id, None, card=False)
            return
        await self.desk.refresh(inc.id, turn, card=False)

    async def on_phase(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        """ "Show next phase" (or back to an earlier one)."""
        phase = phase_of(parts[0]) if parts else ""
        if phase not in ORDER:
            await turn.reply(cards.note("That button is no longer active.", private=True))
            return
        if not inc.is_open:
            await turn.reply(cards.note(f"{inc.id} is closed.", private=True))
            return
        await self.store.steps.choose_phase(inc.id, phase)
        await self.desk.event(inc, turn.actor, "phase", f"Opened the phase {title(phase)}")
        await self.desk.refresh(inc.id, turn, card=False)

    async def skip_command(self, turn: Turn, rest: str) -> None:
        words = rest.split(maxsplit=2)
        if len(words) < 3:
            await turn.reply(
                cards.note(
                    f"Type: {typed(turn.place, 'compromised skip <id> <step number> <reason>')}",
                    private=True,
                )
            )
            return
        inc = await self.desk.find(turn, words[0])
        if inc is None:
            return
        refusal = text_limits.check("reason", words[2], text_limits.REASON)
        if refusal:
            await turn.reply(cards.note(refusal, private=True))
            return
        step = await self.open_step(turn, inc, [words[1]])
        if step is not None:
            await self.skip_step(turn, inc, step, text_limits.clean(words[2]))

    # --- closing with steps still open ---------------------------------------------------

    async def confirm_close(self, turn: Turn, inc: Incident, summary: str) -> bool:
        """When steps are still open, keep the close and ask first (listing them);
        True when it asked. Closing itself is ``lifecycle.close``."""
        steps = await self.store.steps.all(inc.id)
        left = checklist_view.open_steps_list(steps)
        if not left:
            return False
        await self.store.steps.ask_close(inc.id, summary, turn.actor.key)
        shown = left[:MAX_LISTED_OPEN]
        more = len(left) - len(shown)
        lines = [
            f"{inc.id} still has {len(left)} open step{'s' if len(left) != 1 else ''}:",
            *(f"• {line}" for line in shown),
            *((f"…and {more} more.",) if more else ()),
        ]
        ask = "Close it anyway? Open steps stay in the report as not done."
        buttons = (
            Button("Close anyway", "incident:close", button_value(inc.id, "confirm"), "danger"),
            Button("Keep it open", "incident:close", button_value(inc.id, "cancel")),
        )
        # Each section within Slack's limit, so no step is cut off.
        sections = tuple(Section(text) for text in checklist_view.chunks([*lines, ask]))
        text = "\n".join([lines[0], ask, *lines[1:]])  # the question first in a preview
        await turn.reply(Message(text=text, blocks=(*sections, Actions(buttons)), private=True))
        return True

    async def on_close(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        """The answer to the close confirmation; the prompt becomes a line of text."""
        choice = parts[0] if parts else ""
        summary = await self.store.steps.pending_close(inc.id)
        if choice == "confirm" and summary and inc.is_open:
            if not self.desk.may_run(turn.actor, inc):
                await self.desk.refuse(turn, inc, "close")
                return
            text = f"Closing {inc.id}."
            await turn.update_original(Message(text=text, blocks=(Section(text),), private=True))
            await self.desk.lifecycle.close_now(turn, inc, summary)
            return
        if choice == "cancel" or not inc.is_open:
            text = f"{inc.id} stays open." if inc.is_open else f"{inc.id} is closed."
        else:
            text = "Type the close command again to close it."
        await turn.update_original(Message(text=text, blocks=(Section(text),), private=True))
