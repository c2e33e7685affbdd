"""Handing an incident over and giving a checklist step to someone, by picking a person.

A person is picked, not typed as an id: Slack's user menu, a Teams people picker (the
organisation's directory) or, in the web chat, a list of its users (see
:class:`bot.core.model.PersonPicker`). The pick arrives as an action with the person's
platform id in ``form["person"]``:

- ``incident.handover`` (value: the incident id): the picked person becomes commander.
  The "Hand over" button on the incident card, and ``/compromised assign <id>`` with
  nobody named, show the picker.
- ``incident.step.assign`` (value: incident id | step id): the picked person takes the
  step. The checklist's Assign control sends the same action without a person, which
  shows the picker.

Typed handovers end in the same :meth:`Handover.to_commander` and :meth:`Handover.to_step`:
``/compromised assign <id> @person`` (or ``handover``), where the person is a Slack
mention arriving escaped as ``<@U123>``, a Teams @mention (an entity beside the text,
``<@id>`` in it: see ``Incoming.mentions``) or a typed id. :meth:`Handover.named_person`
turns any of them into the same key and name a pick gives.
"""

from __future__ import annotations

import re

from bot import audit
from bot.core import Turn
from bot.core.actions import button_value, value_parts
from bot.core.hints import typed
from bot.core.model import PERSON_FIELD, Block, Choice, Message, PersonPicker, Section
from incidents import cards
from incidents.cards import HANDOVER, STEP_ASSIGN
from incidents.desk.job import DeskJob
from incidents.people import parse_person
from incidents.store import Incident, StepState

# A platform user id as pickers send it: Slack U…/W…, an Entra object id, a web chat id.
_USER_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
MAX_CHOICES = 100  # a longer web chat users list is typed instead


class Handover(DeskJob):
    """The person pickers and what a pick does."""

    # --- the pickers --------------------------------------------------------------------

    async def picker(self, turn: Turn, inc: Incident, step: StepState | None = None) -> None:
        """Privately, a picker for the new commander (or for who takes ``step``)."""
        if step is None:
            prompt = f"Who should take over as commander of {inc.id}?"
            action, value = HANDOVER, button_value(inc.id)
            hint = "Or type " + typed(turn.place, f"compromised assign {inc.id} @person") + "."
        else:
            prompt = f"Who should take “{step.text}” on {inc.id}?"
            action, value = STEP_ASSIGN, button_value(inc.id, step.step_id)
            hint = "Or they can take it themselves: Assign to me."
        blocks: list[Block] = [
            Section(prompt),
            PersonPicker(action, "Choose a person", value, await self.choices(turn)),
            Section(hint),
        ]
        await turn.reply(Message(text=f"{prompt} {hint}", blocks=tuple(blocks), private=True))

    async def choices(self, turn: Turn) -> tuple[Choice, ...]:
        """The people a picker lists where ``turn`` happened (the web chat's users; Slack
        and Teams pickers find people themselves, so there it is empty)."""
        transport = self.services.transports.get(turn.place.platform)
        people = await transport.people(turn.place.workspace) if transport else []
        return tuple(Choice(p.name or p.user_id, p.user_id) for p in people[:MAX_CHOICES])

    # --- what a pick or a typed name does -------------------------------------------------

    async def on_pick(self, turn: Turn) -> None:
        """``incident.handover`` and ``incident.step.assign``: with a person, do it;
        without one (the Assign control, the Hand over button), show the picker."""
        action = turn.incoming.action_id.split("#", 1)[0]
        parts = list(value_parts(turn.incoming.value) or ())
        if not parts or not parts[0] or action not in (HANDOVER, STEP_ASSIGN):
            await turn.reply(cards.note("That button is no longer active.", private=True))
            return
        inc = await self.desk.find(turn, parts[0])
        if inc is None:
            return
        step = None
        if action == STEP_ASSIGN:
            step = await self.desk.checklist.open_step(turn, inc, parts[1:2])
            if step is None:
                return
        elif not await self.may_hand_over(turn, inc):
            return
        user_id = turn.incoming.form.get(PERSON_FIELD, "").strip()
        if not user_id:
            await self.picker(turn, inc, step)
            return
        if not _USER_ID.match(user_id):
            await turn.reply(cards.note("I couldn't tell who that is.", private=True))
            return
        place = turn.place
        name = await self.desk.names.name(place.platform, place.workspace, user_id, where=place)
        key = f"{place.platform}:{user_id}"
        if step is None:
            await self.to_commander(turn, inc, key, name)
        else:
            await self.to_step(turn, inc, step, key, name)

    async def named_person(self, turn: Turn, token: str) -> tuple[str, str] | None:
        """(actor key, display name) for a person named in typed text, keyed as a pick
        from the person picker is; None when it names nobody. A Teams @mention may carry
        the person's Teams id rather than the Entra object id that keys Teams people, so
        it is looked up in the conversation's roster, which gives the object id."""
        person = parse_person(token, turn.place.platform, turn.incoming.mentions)
        if person is None:
            return None
        key, hint = person
        platform, _, user_id = key.partition(":")
        place = turn.place
        transport = self.services.transports.get(platform)
        if user_id in turn.incoming.mentions and transport is not None:
            try:
                found = await transport.lookup(place.workspace, user_id, place)
            except Exception:  # noqa: BLE001 - keep the id the mention gave
                found = None
            if found is not None and found.user_id:
                user_id, key = found.user_id, found.key
        name = await self.desk.names.name(
            platform, place.workspace, user_id, hint=hint, where=place
        )
        return key, name

    async def incident_here(self, turn: Turn) -> Incident | None:
        """The one open incident a handover typed without an id means: the one whose
        room or first conversation this is, among those the caller may see; None when
        that is not exactly one."""
        channel = turn.place.channel
        mine = await self.desk.access.open_for(turn.actor, turn.place)
        here = [i for i in mine if channel in {p.channel for p in (i.origin, i.room) if p}]
        return here[0] if len(here) == 1 else None

    async def may_hand_over(self, turn: Turn, inc: Incident) -> bool:
        if not self.desk.may_run(turn.actor, inc):
            await self.desk.refuse(turn, inc, "hand over")
            return False
        if not inc.is_open:
            await turn.reply(cards.note(f"{inc.id} is closed.", private=True))
            return False
        return True

    async def to_commander(self, turn: Turn, inc: Incident, key: str, name: str) -> None:
        if key == inc.commander:
            await turn.reply(cards.note(f"{name} is already commander of {inc.id}.", private=True))
            return
        await self.store.set_commander(inc.id, key, name, self.desk.now())
        await self.desk.event(inc, turn.actor, "commander", f"Commander is now {name}")
        if turn.actor.key != inc.commander:  # only an admin may hand over someone else's
            await audit.record(turn, "handed over someone else's incident", inc.id)
        await self.invite(inc, key)
        await self.desk.refresh(inc.id)
        await turn.reply(cards.note(f"{cards.drill(inc)}{name} is now commander of {inc.id}."))

    async def to_step(
        self, turn: Turn, inc: Incident, step: StepState, key: str, name: str
    ) -> None:
        if step.assignee == key:
            await turn.reply(cards.note(f"“{step.text}” is already with {name}.", private=True))
            return
        await self.store.steps.assign(inc.id, step.step_id, key, name, self.desk.now())
        await self.desk.event(inc, turn.actor, "assign", f"“{step.text}” given to {name}")
        await self.invite(inc, key)
        await self.desk.refresh(inc.id, card=False)
        number = await self.desk.checklist.number(inc, step)
        await turn.reply(
            cards.note(f"Step {number} on {inc.id}, “{step.text}”, is now with {name}.")
        )

    async def invite(self, inc: Incident, key: str) -> None:
        """Into the incident's private channel, when it has one, so they can work there."""
        room = inc.room
        if room is None or room.channel == inc.origin.channel:
            return
        transport = self.services.transports.get(room.platform)
        if transport is not None:
            await transport.invite(room, [key])
