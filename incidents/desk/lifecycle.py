"""An incident's life after triage: status, the account, evidence, handover,
severity, flags and closing.

Changing severity adds the steps that now apply and tells the pager, which pages a
newly matched team when it went up; closing resolves paging.
"""

from __future__ import annotations

from dataclasses import replace

from bot import audit
from bot.core import DeliveryFailed, Turn
from bot.core.hints import typed
from incidents import cards, text_limits
from incidents.desk.job import DeskJob
from incidents.paging.model import severity_change
from incidents.store import BOT, Incident
from incidents.triage import FLAGS, normalise_handle


class Lifecycle(DeskJob):
    """The sub-commands that look at or change an incident once it exists: status,
    handle, evidence, assign (handover), severity, flag and close."""

    async def status(self, turn: Turn, rest: str) -> None:
        await turn.reply(cards.status_list(await self.desk.access.open_for(turn.actor, turn.place)))

    async def handle(self, turn: Turn, rest: str) -> None:
        words = rest.split()
        inc: Incident | None = None
        if len(words) == 2:
            inc = await self.desk.find(turn, words[0])
            if inc is None:
                return
            words = words[1:]
        refusal = (
            text_limits.check("account name", words[-1], text_limits.ACCOUNT) if words else None
        )
        if refusal:
            await turn.reply(cards.note(refusal, private=True))
            return
        handle = normalise_handle(words[0]) if len(words) == 1 else None
        if handle is None:
            await turn.reply(
                cards.note(
                    "Type the account like this: "
                    + typed(turn.place, "compromised handle @ouraccount"),
                    private=True,
                )
            )
            return
        if inc is None:
            here = await self.desk.access.visible(
                turn.actor, turn.place, await self.store.latest_open_in(turn.place)
            )
            mine = [i for i in here if i.reporter == turn.actor.key]
            missing = [i for i in mine + here if not i.account]
            inc = next(iter(missing or mine or here), None)
        if inc is None:
            await turn.reply(
                cards.note(
                    "There's no open incident here to add the account to. Start one with "
                    f"{typed(turn.place, 'compromised')}, or name it: "
                    f"{typed(turn.place, 'compromised handle SEC-2026-0042 @ouraccount')}",
                    private=True,
                )
            )
            return
        await self.store.set_account(inc.id, handle)
        await self.desk.event(inc, turn.actor, "account", f"Account: {handle}")
        fresh = await self.store.get(inc.id)
        assert fresh is not None
        await self.desk.paging.sync(fresh)  # pages still to come name the account
        await self.desk.refresh(inc.id)
        await turn.reply(cards.note(f"{inc.id}: account set to {handle}.", private=True))

    async def evidence(self, turn: Turn, rest: str) -> None:
        ident, _, text = rest.partition(" ")
        text = text_limits.clean(text)
        if not text:
            await turn.reply(
                cards.note(
                    f"Type: {typed(turn.place, 'compromised evidence <id> <link or note>')}",
                    private=True,
                )
            )
            return
        refusal = text_limits.check("evidence note", text, text_limits.EVIDENCE)
        if refusal:
            await turn.reply(cards.note(refusal, private=True))
            return
        inc = await self.desk.find(turn, ident)
        if inc is None:
            return
        await self.desk.event(inc, turn.actor, "evidence", f"Evidence: {text}")
        name = turn.actor.name or turn.actor.user_id
        await turn.reply(cards.note(f"{cards.drill(inc)}{name} added evidence to {inc.id}: {text}"))

    async def assign(self, turn: Turn, rest: str) -> None:
        """``assign <id>`` shows a person picker; ``assign <id> @person`` hands over as
        commander, ``assign <id> <step> @person`` gives a step (``desk/handover.py``)."""
        words = rest.split()
        if len(words) == 1 and words[0].startswith(("@", "<@")):  # "handover @Sam": which?
            here = await self.desk.handover.incident_here(turn)
            words = [here.id, words[0]] if here is not None else []
        if len(words) not in (1, 2, 3):
            await turn.reply(
                cards.note(
                    f"Type: {typed(turn.place, 'compromised assign <id> @person')}"
                    " (new commander), or "
                    f"{typed(turn.place, 'compromised assign <id> <step> @person')}",
                    private=True,
                )
            )
            return
        inc = await self.desk.find(turn, words[0])
        if inc is None:
            return
        step = None
        if len(words) == 3:
            step = await self.desk.checklist.open_step(turn, inc, [words[1]])
            if step is None:
                return
        elif not await self.desk.handover.may_hand_over(turn, inc):
            return
        if len(words) == 1:
            await self.desk.handover.picker(turn, inc)
            return
        person = await self.desk.handover.named_person(turn, words[-1])
        if person is None:
            await turn.reply(
                cards.note(
                    "I can't tell who that is: @mention them, or type "
                    + typed(turn.place, f"compromised assign {inc.id}")
                    + " to pick them from a list.",
                    private=True,
                )
            )
            return
        key, name = person
        if step is None:
            await self.desk.handover.to_commander(turn, inc, key, name)
        else:
            await self.desk.handover.to_step(turn, inc, step, key, name)

    async def severity(self, turn: Turn, rest: str) -> None:
        words = rest.split()
        if len(words) != 2 or words[1] not in ("1", "2", "3", "4"):
            await turn.reply(
                cards.note(
                    f"Type: {typed(turn.place, 'compromised severity <id> <1-4>')}"
                    " (1 is the worst)",
                    private=True,
                )
            )
            return
        inc = await self.desk.find(turn, words[0])
        if inc is None:
            return
        if not self.desk.may_run(turn.actor, inc):
            await self.desk.refuse(turn, inc, "change the severity of")
            return
        if not inc.is_open:
            await turn.reply(cards.note(f"{inc.id} is closed.", private=True))
            return
        if inc.triage_step != "done":
            await turn.reply(
                cards.note(
                    f"{inc.id} is still in triage: its severity comes from the answers. "
                    "You can change it once the last question is answered.",
                    private=True,
                )
            )
            return
        new = int(words[1])
        if inc.severity == new:
            await self.desk.paging.sync(inc)  # finishes a change cut short by a restart
            await turn.reply(cards.note(f"{inc.id} is already severity {new}.", private=True))
            return
        await self.store.set_severity(inc.id, new)
        changed = severity_change(inc.severity or 4, new)
        await self.desk.event(inc, turn.actor, "severity", changed)
        steps = self.playbooks.steps_for(replace(inc.facts, severity=new))
        added = await self.store.steps.add(inc.id, steps)
        if added:
            texts = ", ".join(f"“{s.text}”" for s in (await self.store.steps.all(inc.id))[-added:])
            await self.desk.event(
                inc, BOT, "steps", f"Checklist steps added for severity {new}: {texts}"
            )
        fresh = await self.store.get(inc.id)
        assert fresh is not None
        team = await self.desk.paging.sync(fresh)
        await self.desk.refresh(inc.id)
        text = f"{cards.drill(inc)}{inc.id}: {changed[0].lower()}{changed[1:]}."
        if team:
            text += f" Team {team} is being paged too, and needs to acknowledge."
        await turn.reply(cards.note(text))

    async def flag(self, turn: Turn, rest: str) -> None:
        words = rest.split()
        if len(words) != 2 or words[1].lower() not in FLAGS:
            await turn.reply(
                cards.note(
                    f"Type: {typed(turn.place, 'compromised flag <id> fraud')}", private=True
                )
            )
            return
        inc = await self.desk.find(turn, words[0])
        if inc is None:
            return
        flag = words[1].lower()
        if await self.store.add_flag(inc.id, flag):
            await self.desk.event(inc, turn.actor, "flag", FLAGS[flag])
            fresh = await self.store.get(inc.id)
            if fresh is not None and fresh.triage_step == "done":
                await self.store.steps.add(inc.id, self.playbooks.steps_for(fresh.facts))
            await self.desk.refresh(inc.id)
        await turn.reply(cards.note(f"{inc.id}: {FLAGS[flag]}.", private=True))

    async def close(self, turn: Turn, rest: str) -> None:
        ident, _, summary = rest.partition(" ")
        inc = await self.desk.find(turn, ident)
        if inc is None:
            return
        if not self.desk.may_run(turn.actor, inc):
            await self.desk.refuse(turn, inc, "close")
            return
        summary = text_limits.clean(summary)
        refusal = text_limits.check("summary", summary, text_limits.SUMMARY)
        if refusal:
            await turn.reply(cards.note(refusal, private=True))
            return
        if not summary:
            await turn.reply(
                cards.note(
                    "Add a short summary: "
                    + typed(turn.place, f"compromised close {inc.id} <what happened>"),
                    private=True,
                )
            )
            return
        if inc.is_open and await self.desk.checklist.confirm_close(turn, inc, summary):
            return  # steps are still open: asked to confirm first
        await self.close_now(turn, inc, summary)

    async def close_now(self, turn: Turn, inc: Incident, summary: str) -> None:
        """Close (after any confirmation), resolve paging and say so."""
        if not await self.store.close(inc.id, summary, self.desk.now()):
            await self.desk.paging.resolve(inc)  # in case a restart cut the first close short
            await turn.reply(cards.note(f"{inc.id} is already closed.", private=True))
            return
        name = turn.actor.name or turn.actor.user_id
        await self.desk.event(inc, turn.actor, "close", f"Closed by {name}: {summary}")
        if turn.actor.key != inc.commander:  # only an admin may close someone else's
            await audit.record(turn, "closed someone else's incident", inc.id)
        await self.desk.paging.resolve(inc)
        await self.desk.refresh(inc.id)
        closed = cards.note(f"{cards.drill(inc)}{inc.id} closed by {name}: {summary}")
        room = inc.room or inc.origin
        if turn.place.is_direct and not room.is_direct:
            # Confirmed in a personal chat (Teams sends the confirmation there): the
            # incident's room hears it, as it would have from the close command.
            try:
                await self.desk.post(room, closed, turn)
            except DeliveryFailed:
                await turn.reply(closed)
        else:
            await turn.reply(closed)
        if inc.drill:
            await self.desk.reports.send(turn, inc.id)
