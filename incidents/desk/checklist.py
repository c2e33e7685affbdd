"""The checklist: a step done, skipped (with a reason) or taken by someone.

Buttons ``incident:done|skip|reason|assign`` and ``/compromised skip``. Each change
goes on the timeline and may move the incident's status on.
"""

from __future__ import annotations

from bot.core import Turn
from bot.core.hints import typed
from incidents import cards, text_limits
from incidents.desk.job import DeskJob
from incidents.store import BOT, Incident, StepState


class Checklist(DeskJob):
    """Done, skip, reason and assign on checklist steps."""

    async def open_step(self, turn: Turn, inc: Incident, parts: list[str]) -> StepState | None:
        """The step ``parts[0]`` names, on an open incident; otherwise says why not."""
        step = self.store.steps.get(inc.id, parts[0]) if parts else None
        if step is None:
            # Step ids appear nowhere on the checklist, so say which ones there are.
            ids = ", ".join(step.step_id for step in self.store.steps.all(inc.id))
            await turn.reply(
                cards.note(
                    f"{inc.id} has no step “{(parts[0] if parts else '')[:40]}”."
                    + (f" Its steps are: {ids}." if ids else ""),
                    private=True,
                )
            )
            return None
        if not inc.is_open:
            await turn.reply(cards.note(f"{inc.id} is closed.", private=True))
            return None
        return step

    async def after_step(self, turn: Turn | None, inc: Incident) -> None:
        changed = self.store.advance_status(inc.id, self.desk.now())
        if changed:
            self.desk.event(inc, BOT, "status", f"Status: {changed}")
        await self.desk.refresh(inc.id, turn, card=bool(changed))

    async def on_done(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        step = await self.open_step(turn, inc, parts)
        if step is None:
            return
        if self.store.steps.resolve(inc.id, step.step_id, "done", turn.actor, self.desk.now()):
            self.desk.event(inc, turn.actor, "step", f"Done: “{step.text}”")
            await self.after_step(turn, inc)

    async def on_skip(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        step = await self.open_step(turn, inc, parts)
        if step is None or step.status != "open":
            return
        await turn.reply(cards.skip_prompt(inc, step, turn.place))

    async def on_reason(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        step = await self.open_step(turn, inc, parts[:1])
        if step is None or len(parts) < 2:
            return
        code = parts[1]
        if code not in cards.SKIP_LABELS or code == "other":
            await turn.reply(
                cards.note(
                    "Type the reason: "
                    + typed(turn.place, f"compromised skip {inc.id} {step.step_id} <reason>"),
                    private=True,
                )
            )
            return
        await self.skip_step(turn, inc, step.step_id, cards.SKIP_LABELS[code])

    async def skip_step(self, turn: Turn, inc: Incident, step_id: str, reason: str) -> None:
        step = self.store.steps.get(inc.id, step_id)
        what = f"“{step.text}”" if step else step_id
        if self.store.steps.resolve(
            inc.id, step_id, "skipped", turn.actor, self.desk.now(), reason
        ):
            self.desk.event(inc, turn.actor, "step", f"Skipped: {what} ({reason})")
            await self.after_step(None, inc)
            await turn.reply(cards.note(f"Skipped {what} on {inc.id}: {reason}", private=True))
        else:
            await turn.reply(cards.note(f"{what} is already done or skipped.", private=True))

    async def on_assign(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        step = await self.open_step(turn, inc, parts)
        if step is None:
            return
        name = turn.actor.name or turn.actor.user_id
        if step.assignee == turn.actor.key:
            return  # a double click
        self.store.steps.assign(inc.id, step.step_id, turn.actor.key, name, self.desk.now())
        self.desk.event(inc, turn.actor, "assign", f"“{step.text}” given to {name}")
        await self.desk.refresh(inc.id, turn, card=False)

    async def skip_command(self, turn: Turn, rest: str) -> None:
        words = rest.split(maxsplit=2)
        if len(words) < 3:
            await turn.reply(
                cards.note(
                    f"Type: {typed(turn.place, 'compromised skip <id> <step> <reason>')}",
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
            await self.skip_step(turn, inc, step.step_id, text_limits.clean(words[2]))
