"""Status reminders, and the one worker that fires every incident timer.

After an incident is acknowledged, its commander is reminded in the incident room to
post an update every N minutes (``SECBOT_STATUS_REMINDER_MINUTES_SEV1`` for severity 1,
default 30; ``SECBOT_STATUS_REMINDER_MINUTES`` otherwise, default 60) until the incident
reaches monitoring or closes. An update posted in the meantime restarts the wait.
"Post update" is one click that opens a short form; the update goes to the incident
room, the timeline (kind ``status_update``) and, when ``SECBOT_STAKEHOLDER_CHANNEL`` is
set, that channel too.

The timers live in the database (``incidents/clock``). Each round of the worker first
makes sure every acknowledged incident still being worked has a status timer (so an
acknowledgement from anywhere, a chat button, a command or PagerDuty, starts them, and
a crash between acknowledging and scheduling loses nothing), then claims and fires the
timers that are due with a lease (``ClockStore.claim_due``), re-reading the incident
before acting, and marks each fired. A timer claimed by an instance that then died is
fired by another once the lease runs out: a reminder is never lost in a crash (one cut
off between its post and its mark may be posted twice).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from bot.core import DeliveryFailed, Turn
from bot.core.actions import action_id, value_parts, verb
from bot.core.model import Actions, Button, Message, Place, Section, TextInput
from bot.workers import Worker
from incidents import cards, text_limits
from incidents.desk.job import DeskJob
from incidents.store import BOT, Incident

log = logging.getLogger(__name__)

UPDATE = "incident.update"  # buttons: incident.update:form | post
UPDATE_FIELD = "update"
UPDATE_LIMIT = 1000
WORKING = ("containing", "recovering")  # reminded until monitoring (or closed)
LONGEST_WAIT = 60.0  # seconds between rounds when nothing is due sooner


class StatusReminders(DeskJob):
    """Schedule and fire the timers; the status update form."""

    worker: Worker | None = None

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    def interval(self, inc: Incident) -> timedelta:
        s = self.services.settings
        minutes = s.status_reminder_minutes_sev1 if inc.severity == 1 else s.status_reminder_minutes
        return timedelta(minutes=minutes)

    async def after_ack(self, inc: Incident) -> None:
        """Acknowledged: the first reminder one interval after the acknowledgement."""
        fresh = await self.store.get(inc.id)
        if fresh is None or fresh.acked_at is None or fresh.status not in WORKING:
            return
        if await self.desk.clock.schedule(
            inc.id, "status", "1", fresh.acked_at + self.interval(fresh)
        ):
            self.wake()

    # --- the worker ----------------------------------------------------------------------

    async def step(self) -> float:
        """One round: schedule what acknowledgement started, fire what is due, and
        sleep until the next timer (at most a minute, so a timer another process
        added is not missed for long)."""
        for inc in await self.store.open_incidents():
            if inc.acked_at is not None and inc.status in WORKING:
                await self.after_ack(inc)
        now = self.desk.now()
        # Each timer claimed is this instance's alone until it is marked fired.
        for timer in await self.desk.clock.claim_due(now, self.services.instance):
            try:
                if timer.kind == "ico":
                    await self.desk.ico.remind(timer.incident_id, timer.mark)
                elif timer.kind == "status":
                    await self.fire(timer.incident_id, int(timer.mark), timer.due_at)
            except Exception:  # noqa: BLE001 - one incident's failure must not stop the rest
                log.exception("an incident reminder failed (%s)", timer.kind)
            await self.desk.clock.done(timer.id, self.desk.now())
        upcoming = await self.desk.clock.next_due()
        if upcoming is None:
            return LONGEST_WAIT
        return min(LONGEST_WAIT, max(0.0, (upcoming - self.desk.now()).total_seconds()))

    async def fire(self, incident_id: str, round_: int, due: datetime) -> None:
        """A status timer fired: remind unless the incident has moved on, or an update
        was posted within the interval; then schedule the next."""
        inc = await self.store.get(incident_id)
        if inc is None or inc.status not in WORKING:
            return  # monitoring or closed: reminders end here
        every = self.interval(inc)
        last = await self.last_update(inc)
        if last is not None and last > due - every:
            await self.desk.clock.schedule(inc.id, "status", str(round_ + 1), last + every)
            return
        since = last or inc.acked_at or due - every
        minutes = int((self.desk.now() - since).total_seconds() // 60)
        who = inc.commander_name or inc.commander
        what = "the last update" if last else "it was acknowledged"
        text = (
            f"{cards.drill(inc)}{inc.id}: {who}, time to post an update. It has been"
            f" {minutes} minutes since {what}. Say where things stand, even if nothing"
            " has changed."
        )
        msg = Message(
            text,
            (
                Section(text),
                Actions((Button("Post update", action_id(UPDATE, "form"), inc.id, "primary"),)),
            ),
        )
        try:
            await self.desk.post(inc.room or inc.origin, msg)
            await self.desk.event(inc, BOT, "status_reminder", f"Reminded {who} to post an update")
        except DeliveryFailed as e:
            log.warning("could not post a status reminder: %s", e.reason)
            await self.desk.event(
                inc, BOT, "error", f"Could not post a status reminder ({e.reason})"
            )
        await self.desk.clock.schedule(inc.id, "status", str(round_ + 1), self.desk.now() + every)

    async def last_update(self, inc: Incident) -> datetime | None:
        events = await self.store.timeline.events(inc.id)
        updates = [e.at for e in events if e.kind == "status_update"]
        return updates[-1] if updates else None

    # --- "Post update" -------------------------------------------------------------------

    async def on_click(self, turn: Turn) -> None:
        """``incident.update:form`` opens the form; ``incident.update:post`` sends it."""
        parts = value_parts(turn.incoming.value) or ()
        inc = await self.desk.find(turn, parts[0]) if parts and parts[0] else None
        if inc is None:
            return
        if not inc.is_open:
            await turn.reply(cards.note(f"{inc.id} is closed.", private=True))
            return
        if verb(turn.incoming.action_id) == "form":
            await turn.reply(self.form(inc, bool(self.services.settings.stakeholder_channel)))
            return
        text = turn.incoming.form.get(UPDATE_FIELD, "")
        refusal = text_limits.check("update", text, UPDATE_LIMIT)
        text = text_limits.clean(text)
        if refusal or not text:
            await turn.reply(
                cards.note(refusal or "Type the update in the box, then press Post.", private=True)
            )
            return
        # The form's message and the words are the key: a second click on the same form
        # posts nothing, but new words are a new update. (In Teams every form opened
        # from one reminder comes back with that reminder card's id.)
        form_id = turn.incoming.message.id if turn.incoming.message else turn.incoming.delivery_id
        words = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        if not await self.desk.clock.once(inc.id, "update", f"{form_id}:{words}", self.desk.now()):
            await turn.reply(cards.note("That update was posted already.", private=True))
            return
        await self.post_update(turn, inc, text)

    @staticmethod
    def form(inc: Incident, stakeholders: bool = False) -> Message:
        """The form; ``stakeholders``: the update also goes to the stakeholder channel,
        which the person typing it should know before they write it."""
        text = f"Update on {inc.id}"
        where = (
            "the incident room, the timeline and the stakeholder channel"
            if stakeholders
            else "the incident room and the timeline"
        )
        return Message(
            text,
            (
                Section(f"{text}: where do things stand? It goes to {where}."),
                TextInput(
                    UPDATE_FIELD,
                    "Update",
                    placeholder="For example: passwords reset, waiting for the platform to reply",
                    max_length=UPDATE_LIMIT,
                ),
                Actions((Button("Post", action_id(UPDATE, "post"), inc.id, "primary"),)),
            ),
            private=True,
        )

    async def post_update(self, turn: Turn, inc: Incident, text: str) -> None:
        name = turn.actor.name or turn.actor.user_id
        await self.desk.event(inc, turn.actor, "status_update", text)
        said = f"{cards.drill(inc)}Update on {inc.id} from {name}: {text}"
        places: list[Place] = [inc.room or inc.origin]
        channel = self.services.settings.stakeholder_channel
        if channel:
            o = inc.origin
            places.append(Place(o.platform, o.workspace, channel, enterprise=o.enterprise))
        for where in places:
            try:
                await self.desk.post(where, cards.note(said), turn)
            except DeliveryFailed as e:
                log.warning("could not post a status update: %s", e.reason)
                await self.desk.event(inc, BOT, "error", f"Could not post the update ({e.reason})")
        await turn.reply(cards.note("Update posted.", private=True))
