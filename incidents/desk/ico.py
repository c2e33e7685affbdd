"""The ICO 72-hour clock: a personal data breach that must be reported goes to the ICO
within 72 hours of becoming aware of it (UK GDPR Article 33).

What starts it: triage's last question (direct messages or personal data seen) answered
"Yes" or "Not sure", from the moment that answer was given; or, later, someone on the
incident typing ``/compromised ico <id>``, from that moment. Starting twice changes
nothing: awareness never moves later.

What it does: shows the deadline (Europe/London, with the zone) on the incident card;
brings in the data protection officer when the routing file names one
(``data_protection_officer``: added to the incident's people and sent a direct
message); and reminds the commander and the DPO at 24, 48 and 66 hours
(``incidents/desk/reminders.py`` fires the durable timers).

What stops it: the commander, the DPO or an admin records the decision with a button
on the card or on a reminder: "Reported to the ICO", or "Not reportable" with a reason
typed in a short form. The decision, who made it and when go on the timeline (kinds
``ico_clock``, ``ico_reminder``, ``ico_decision``) and in the report.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.core import DeliveryFailed, Turn
from bot.core.actions import action_id, value_parts, verb
from bot.core.hints import typed
from bot.core.model import (
    Actions,
    Actor,
    Block,
    Button,
    Context,
    Heading,
    Message,
    Section,
    TextInput,
)
from incidents import cards, text_limits
from incidents.clock import ClockStore, IcoRecord
from incidents.desk.job import DeskJob
from incidents.store import BOT, Incident
from incidents.times import london

log = logging.getLogger(__name__)

ICO = "incident.ico"  # buttons: incident.ico:reported | assess | notreportable
DEADLINE = timedelta(hours=72)
REMINDER_HOURS = (24, 48, 66)
REASON_FIELD = "reason"
REASON = text_limits.REASON
SOURCE = "UK GDPR Article 33"
DECISIONS = {"reported": "Reported to the ICO", "not_reportable": "Assessed as not reportable"}


def decision_buttons(incident_id: str) -> Actions:
    return Actions(
        (
            Button("Reported to the ICO", action_id(ICO, "reported"), incident_id, "primary"),
            Button("Not reportable", action_id(ICO, "assess"), incident_id),
        )
    )


def card_blocks(rec: IcoRecord | None) -> tuple[Block, ...]:
    """What the incident card shows of the clock: the deadline and the two buttons
    while it runs, the decision once made."""
    if rec is None:
        return ()
    if rec.running:
        text = (
            f"ICO deadline: {london(rec.deadline_at)}. If this is a personal data breach"
            f" that must be reported, report it to the ICO within 72 hours of becoming"
            f" aware ({london(rec.aware_at)}; {SOURCE}). Record the decision:"
        )
        return (Section(text), decision_buttons(rec.incident_id))
    said = DECISIONS.get(rec.decision or "", rec.decision or "")
    when = london(rec.decided_at) if rec.decided_at else ""
    text = f"ICO: {said} by {rec.decided_by_name or rec.decided_by} on {when}."
    if rec.reason:
        text += f" Reason: {rec.reason}"
    return (Section(text),)


class IcoClock(DeskJob):
    """Start the clock, bring in the DPO, remind, and record the decision."""

    @property
    def clock(self) -> ClockStore:
        return self.desk.clock

    def dpo_for(self, inc: Incident) -> tuple[str, str] | None:
        """(person key, name) of the DPO on the incident's platform, if the routing
        file names one there."""
        routing = getattr(self.pager, "routing", None)
        dpo = getattr(routing, "data_protection_officer", None)
        if dpo is None:
            return None
        key = dpo.person_on(inc.origin.platform)
        return (key, dpo.name) if key else None

    async def from_triage(self, inc: Incident) -> None:
        """Triage said personal data may be exposed: start from when it said so."""
        if inc.personal_data in ("yes", "unsure") and inc.triaged_at is not None:
            await self.start(inc, BOT, inc.triaged_at)

    async def start(self, inc: Incident, actor: Actor, aware_at: datetime) -> bool:
        """Start the clock from ``aware_at``; False when it was running already. A
        drill keeps the clock too (it is part of the practice) but never disturbs the
        real DPO, as drills page only drill-safe targets."""
        dpo = None if inc.drill else self.dpo_for(inc)
        deadline = aware_at + DEADLINE
        started = await self.clock.start_ico(
            inc.id,
            aware_at=aware_at,
            deadline_at=deadline,
            started_by=actor.key,
            dpo=dpo[0] if dpo else None,
            dpo_name=dpo[1] if dpo else None,
            reminders=[(str(h), aware_at + timedelta(hours=h)) for h in REMINDER_HOURS],
        )
        if not started:
            return False
        await self.desk.event(
            inc,
            actor,
            "ico_clock",
            f"ICO 72-hour clock started: aware at {london(aware_at)}; a reportable breach"
            f" must be reported by {london(deadline)} ({SOURCE})",
        )
        if dpo is not None:
            await self.bring_in_dpo(inc, *dpo, deadline)
        self.desk.reminders.wake()
        return True

    async def bring_in_dpo(self, inc: Incident, key: str, name: str, deadline: datetime) -> None:
        """Add the DPO to the incident's people (so they may see and act on it), to a
        private room if there is one, and send them a direct message: their page."""
        now = self.desk.now()
        await self.store.people.add(inc.id, key, name, "dpo", "bot", now)
        transport = self.services.transports.get(inc.origin.platform)
        if transport is None:
            return
        user_id = key.partition(":")[2]
        if inc.room is not None and inc.room.channel != inc.origin.channel:
            try:
                await transport.invite(inc.room, [user_id])
            except DeliveryFailed as e:
                log.warning("could not invite the DPO to the incident room: %s", e.reason)
        text = (
            f"{cards.drill(inc)}{inc.id} may have exposed personal data, such as direct"
            f" messages. You are the data protection officer for it. If it is a personal"
            f" data breach that must be reported, the ICO needs it by {london(deadline)}"
            f" (72 hours from becoming aware, {SOURCE}). Record the decision here when it"
            f" is made; I'll remind you at 24, 48 and 66 hours until then."
        )
        msg = Message(
            text, (Heading(f"ICO clock: {inc.id}"), Section(text), decision_buttons(inc.id))
        )
        try:
            await transport.post(transport.direct_place(inc.origin.workspace, user_id), msg)
            told = f"Data protection officer {name} added and told"
        except DeliveryFailed as e:
            log.warning("could not message the DPO: %s", e.reason)
            told = f"Data protection officer {name} added; the message to them failed ({e.reason})"
        await self.desk.event(inc, BOT, "ico_dpo", told)

    # --- reminders ---------------------------------------------------------------------

    async def remind(self, incident_id: str, hours: str) -> None:
        """A reminder timer fired (already claimed): check the clock still runs, then
        remind the commander (in the incident room and directly) and the DPO."""
        inc = await self.store.get(incident_id)
        rec = await self.clock.ico(incident_id)
        if inc is None or rec is None or not rec.running:
            return
        left = rec.deadline_at - self.desk.now()
        hours_left = max(0, int(left.total_seconds() // 3600))
        text = (
            f"{cards.drill(inc)}{inc.id}: {hours} hours since becoming aware that personal"
            f" data may be exposed. About {hours_left} hours left: a reportable breach must"
            f" reach the ICO by {london(rec.deadline_at)} ({SOURCE}). Record the decision"
            f" when it is made."
        )
        msg = Message(
            text, (Heading(f"ICO clock: {inc.id}"), Section(text), decision_buttons(inc.id))
        )
        told = await self.tell(inc, msg, [inc.commander, *([rec.dpo] if rec.dpo else [])])
        who = " and ".join(told) if told else "nobody could be told"
        await self.desk.event(inc, BOT, "ico_reminder", f"ICO reminder at {hours} hours: {who}")

    async def tell(self, inc: Incident, msg: Message, people: list[str]) -> list[str]:
        """Post ``msg`` in the incident room and to each person directly; the names of
        those it reached."""
        told: list[str] = []
        try:
            await self.desk.post(inc.room or inc.origin, msg)
            told.append("the incident room")
        except DeliveryFailed as e:
            log.warning("could not post an ICO reminder in the room: %s", e.reason)
        transport = self.services.transports.get(inc.origin.platform)
        for key in dict.fromkeys(people):
            platform, _, user_id = key.partition(":")
            if transport is None or platform != inc.origin.platform or not user_id:
                continue
            try:
                await transport.post(transport.direct_place(inc.origin.workspace, user_id), msg)
                told.append(await self.desk.names.known(key))
            except DeliveryFailed as e:
                log.warning("could not send an ICO reminder directly: %s", e.reason)
        return told

    # --- the decision ------------------------------------------------------------------

    async def on_click(self, turn: Turn) -> None:
        """``incident.ico:reported|assess|notreportable`` with the incident id."""
        kind = verb(turn.incoming.action_id)
        parts = value_parts(turn.incoming.value) or ()
        inc = await self.desk.find(turn, parts[0]) if parts and parts[0] else None
        if inc is None:
            return
        rec = await self.clock.ico(inc.id)
        if rec is None:
            await turn.reply(
                cards.note(f"The ICO clock is not running for {inc.id}.", private=True)
            )
            return
        if not rec.running:
            await turn.reply(cards.note(card_blocks(rec)[0].text, private=True))  # type: ignore[union-attr]
            return
        if not self.may_decide(turn.actor, inc, rec):
            await turn.reply(
                cards.note(
                    f"Only the incident commander ({inc.commander_name or inc.commander}),"
                    " the data protection officer or an admin can record the ICO decision"
                    f" for {inc.id}.",
                    private=True,
                )
            )
            return
        if kind == "reported":
            await self.decide(turn, inc, "reported", None)
        elif kind == "assess":
            await turn.reply(self.reason_form(inc))
        elif kind == "notreportable":
            reason = turn.incoming.form.get(REASON_FIELD, "")
            refusal = text_limits.check("reason", reason, REASON)
            reason = text_limits.clean(reason)
            if refusal or not reason:
                await turn.reply(
                    cards.note(
                        refusal
                        or "Type the reason it is not reportable in the box, then press Save.",
                        private=True,
                    )
                )
                return
            await self.decide(turn, inc, "not_reportable", reason)

    def may_decide(self, actor: Actor, inc: Incident, rec: IcoRecord) -> bool:
        return self.desk.may_run(actor, inc) or (rec.dpo is not None and actor.key == rec.dpo)

    @staticmethod
    def reason_form(inc: Incident) -> Message:
        text = f"Why is {inc.id} not reportable to the ICO?"
        return Message(
            text,
            (
                Section(text + " Say why in a sentence or two; it goes on the timeline."),
                TextInput(
                    REASON_FIELD,
                    "Reason",
                    placeholder="For example: no personal data was in the messages seen",
                    max_length=REASON,
                ),
                Actions((Button("Save", action_id(ICO, "notreportable"), inc.id, "primary"),)),
            ),
            private=True,
        )

    async def decide(self, turn: Turn, inc: Incident, decision: str, reason: str | None) -> None:
        actor = turn.actor
        name = actor.name or actor.user_id
        if not await self.clock.decide(
            inc.id, decision=decision, reason=reason, by=actor.key, by_name=name,
            now=self.desk.now(),
        ):  # fmt: skip
            return  # decided a moment ago by another click
        said = DECISIONS[decision] + (f": {reason}" if reason else "")
        await self.desk.event(inc, actor, "ico_decision", f"{said} (recorded by {name})")
        await self.desk.refresh(inc.id)
        text = f"{cards.drill(inc)}{inc.id}: {said}. Recorded by {name}; the ICO reminders stop."
        try:
            await self.desk.post(inc.room or inc.origin, cards.note(text))
        except DeliveryFailed as e:
            log.warning("could not post the ICO decision: %s", e.reason)
        await turn.reply(cards.note(f"Recorded: {said}.", private=True))

    async def command(self, turn: Turn, rest: str) -> None:
        """``/compromised ico <id>``: personal data may be exposed after all (a later
        step found it): start the clock from now, or say where it stands."""
        inc = await self.desk.find(turn, rest.split()[0] if rest.split() else "")
        if inc is None:
            return
        if await self.start(inc, turn.actor, self.desk.now()):
            await self.desk.refresh(inc.id)
            await turn.reply(
                cards.note(
                    f"{inc.id}: the ICO 72-hour clock has started. The deadline is on the"
                    " incident card.",
                )
            )
            return
        rec = await self.clock.ico(inc.id)
        shown = card_blocks(rec)  # the card's own words, with its buttons while it runs
        words = shown[0].text if shown else ""  # type: ignore[union-attr]
        hint = "The whole story is in the report: " + typed(
            turn.place, f"compromised report {inc.id}"
        )
        await turn.reply(Message(f"{words}\n{hint}", (*shown, Context((hint,))), private=True))
