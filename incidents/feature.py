"""``/compromised``: report a hijacked social media account and work it to a close.

Start here. ``setup`` registers the ``compromised`` command and every ``incident:``
button. The flow:

1. ``/compromised [platform] [@account] [dept=<name>]`` posts a triage card; four
   questions are answered by buttons on that one card (``incident:triage``), saved in
   SQLite as they are answered, so a restart mid-triage loses nothing.
2. The last answer fixes the severity (``incidents.triage``), snapshots the checklist
   from the playbooks (``incidents.playbooks``), turns the card into the incident card,
   posts the checklist in the incident's room (a Slack thread or private channel, or the
   same conversation) and starts paging (``incidents.paging``).
3. Checklist buttons (``incident:done|skip|reason|assign``) and the Acknowledge button
   (``incident:ack``, also on chat pages) update the messages in place; every change
   goes on the timeline (``incidents.store``).
4. ``/compromised severity <id> <n>`` adds the steps that now apply and tells the pager,
   which pages a newly matched team when the severity went up (``sync_paging``).
5. ``/compromised close <id> <summary>`` resolves paging; ``/compromised report <id>``
   writes the Markdown report (``incidents.report``). ``/compromised drill`` is the same
   flow marked DRILL, paging only drill-safe targets.

At start-up ``resume_worker`` finishes what a stopped process left half done: a triaged
incident not yet paged (or without its checklist), or a closed one still paging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from bot.core import DeliveryFailed, Turn
from bot.core.model import Actor, Message, MessageRef, Place, Section
from incidents import cards, people, text_limits
from incidents.access import IncidentAccess, refused_start, start_limits
from incidents.cards import typed
from incidents.people import parse_person
from incidents.playbook_lint import load_playbooks
from incidents.playbooks import Playbooks
from incidents.report import acknowledgements, build_report, duration, timings
from incidents.store import BOT, DOMAIN, MIGRATIONS, Incident, IncidentStore, StartRefused
from incidents.triage import (
    FLAGS,
    PLATFORM_LABELS,
    SYMPTOM_LABELS,
    normalise_handle,
    parse_start,
    platform_id,
    severity_for,
)

if TYPE_CHECKING:
    from bot.core import Services
    from bot.core.features import FeatureHost

log = logging.getLogger(__name__)

USAGE = (
    "/compromised [platform] [@account] [dept=<name>] — report a compromised account\n"
    "/compromised status — open incidents you're part of\n"
    "/compromised ack <id> — acknowledge a page (the paged team or an admin)\n"
    "/compromised handle [<id>] @account — say which account it is\n"
    "/compromised evidence <id> <link or note> — add evidence to the timeline\n"
    "/compromised skip <id> <step> <reason> — skip a checklist step\n"
    "/compromised assign <id> @person — hand over as commander (or: <id> <step> @person)\n"
    "/compromised add <id> @person — let someone see and work on the incident\n"
    "/compromised people <id> — who is on the incident\n"
    "/compromised severity <id> <1-4> — change the severity (commander or admin)\n"
    "/compromised flag <id> fraud — fraud is involved (adds the Action Fraud step)\n"
    "/compromised close <id> <summary> — close it (commander or admin)\n"
    "/compromised report <id> — the post-incident report as a file\n"
    "/compromised drill [platform] [@account] — practise the whole flow"
)

# Pager events that are also posted in the incident's room, not only the timeline.
ROOM_WORTHY = ("Could not", "Escalation finished")
ACK_HINT = (
    "To stop paging, press Acknowledge in secbot, or send secbot “compromised ack {id}” "
    "(in Slack: /compromised ack {id})."
)


def usage_for(place: Place) -> str:
    """USAGE with each command written the way it is typed where the person is."""
    return "\n".join(typed(place, line.removeprefix("/compromised ")) for line in USAGE.split("\n"))


_TRUE = {"1", "true", "yes", "on"}


class IncidentDesk:
    """The /compromised handlers, sharing one store, the playbooks and the pager."""

    def __init__(self, services: Services, playbooks: Playbooks, pager: Any):
        self.services = services
        self.store = IncidentStore(services.db)
        self.playbooks = playbooks
        self.pager = pager
        self.access = IncidentAccess(services, self.store, pager)
        self.limits = start_limits(services)

    # --- helpers --------------------------------------------------------------------

    @property
    def tz(self):
        return self.services.settings.tz

    def now(self):
        return self.services.clock.now()

    def event(self, inc: Incident, actor: Actor, kind: str, text: str) -> None:
        self.store.add_event(inc.id, self.now(), actor, kind, text)

    def info(self, inc: Incident) -> Any:
        from incidents.paging import IncidentInfo

        room = inc.room or inc.origin
        platform = PLATFORM_LABELS.get(inc.platform or "", inc.platform or "unknown")
        symptoms = ", ".join(SYMPTOM_LABELS[s] for s in inc.symptoms) or "not stated"
        summary = f"{platform} account {inc.account or '(account not given)'}: {symptoms}."
        if inc.harmful_live:
            summary += " Harmful content is live."
        if inc.has_access is False:
            summary += " We have lost admin access."
        return IncidentInfo(
            id=inc.id,
            summary=("DRILL: " if inc.drill else "") + summary,
            platform=inc.platform or "other",
            account=inc.account or "",
            department=inc.department,
            severity=inc.severity or 4,
            drill=inc.drill,
            reporter=inc.reporter,
            origin={
                "platform": room.platform,
                "workspace": room.workspace,
                "channel": room.channel,
                "is_direct": room.is_direct,
                "thread": room.thread,
            },
        )

    def may_run(self, actor: Actor, inc: Incident) -> bool:
        return actor.key == inc.commander or self.services.is_admin(actor)

    async def refuse(self, turn: Turn, inc: Incident, what: str) -> None:
        who = inc.commander_name or inc.commander
        await turn.reply(
            cards.note(
                f"Only the incident commander ({who}) or an admin can {what} {inc.id}. "
                f"Ask them, or ask the commander to hand over with "
                f"{typed(turn.place, f'assign {inc.id} @you')}.",
                private=True,
            )
        )

    async def find(self, turn: Turn, ident: str) -> Incident | None:
        """The incident named by the caller, if they may see it (``incidents.access``)."""
        return await self.access.find(turn, ident)

    async def post(self, place: Place, msg: Message, turn: Turn | None = None) -> MessageRef | None:
        transport = self.services.transports.get(place.platform)
        if transport is None:  # a platform with no proactive transport (the test backend)
            return await turn.reply(msg) if turn else None
        return await transport.post(place, msg)

    async def update(self, ref: MessageRef | None, msg: Message, turn: Turn | None = None) -> None:
        """Redraw a stored message: in place through the click when it was clicked."""
        if ref is None:
            return
        clicked = turn.incoming.message if turn else None
        if turn and clicked and clicked.id == ref.id and clicked.place.channel == ref.place.channel:
            await turn.update_original(msg)
            return
        transport = self.services.transports.get(ref.place.platform)
        if transport is None:
            return
        try:
            await transport.update(ref, msg)
        except DeliveryFailed as e:
            log.warning("could not update an incident message: %s", e.reason)

    async def refresh(
        self, incident_id: str, turn: Turn | None = None, *, card: bool = True
    ) -> None:
        """Redraw the incident card (unless only the checklist changed) and checklist."""
        inc = self.store.get(incident_id)
        if inc is None:
            return
        if card:
            await self.update(inc.card, cards.incident_card(inc, self.tz), turn)
        if inc.checklist:
            msg = cards.checklist(inc, self.store.steps(inc.id), self.tz)
            await self.update(inc.checklist, msg, turn)

    # --- /compromised ---------------------------------------------------------------

    async def command(self, turn: Turn) -> None:
        head, _, rest = turn.args.strip().partition(" ")
        sub = {
            "status": self.status,
            "close": self.close,
            "report": self.report,
            "drill": self.drill,
            "assign": self.assign,
            "severity": self.severity,
            "evidence": self.evidence,
            "skip": self.skip_command,
            "handle": self.handle,
            "flag": self.flag,
            "add": lambda turn, rest: people.add(self, turn, rest),
            "people": lambda turn, rest: people.people(self, turn, rest),
            "ack": self.ack_command,
            "acknowledge": self.ack_command,
            "help": self.usage,
        }.get(head.lower())
        if sub is not None:
            await sub(turn, rest.strip())
        else:
            await self.start(turn, turn.args, drill=False)

    async def usage(self, turn: Turn, rest: str = "") -> None:
        await turn.reply(cards.note(usage_for(turn.place), private=True))

    async def drill(self, turn: Turn, rest: str) -> None:
        await self.start(turn, rest, drill=True)

    async def start(self, turn: Turn, args: str, *, drill: bool) -> None:
        parsed = parse_start(args)
        if parsed.error:
            await turn.reply(
                cards.note(
                    f"{parsed.error} Type {typed(turn.place, '').strip()}, or"
                    f" {typed(turn.place, 'x @ouraccount')} to name the platform and account."
                    "\n\n" + usage_for(turn.place),
                    private=True,
                )
            )
            return
        refusal = text_limits.check(
            "department name", parsed.department or "", text_limits.DEPARTMENT
        )
        if refusal:
            await turn.reply(cards.note(refusal, private=True))
            return
        department = text_limits.clean(parsed.department or "") or self.services.settings.get(
            "SECBOT_DEPARTMENT"
        )
        key = turn.incoming.delivery_id or None
        inc = self.store.for_delivery(key) if key else None
        if inc is not None:
            # A replay after a crash: the incident exists. Post its triage card only if
            # that post never completed (the incident row is the post's recorded intent).
            if inc.card_id is None:
                ref = await turn.reply(cards.triage_card(inc))
                if ref is not None:
                    self.store.set_card(inc.id, ref.id)
            return
        try:
            inc = self.store.create(
                self.now(),
                reporter=turn.actor,
                origin=turn.place,
                drill=drill,
                platform=parsed.platform,
                account=parsed.handle,
                department=department,
                limits=self.limits,
                delivery_key=key,
            )
        except StartRefused as e:
            log.info("incident start refused (%s) for %s", e.kind, turn.actor.key)
            await turn.reply(cards.note(refused_start(turn.place, e), private=True))
            return
        if drill:
            self.event(inc, turn.actor, "drill", "This is a drill")
        ref = await turn.reply(cards.triage_card(inc))
        if ref is not None:
            self.store.set_card(inc.id, ref.id)

    async def status(self, turn: Turn, rest: str) -> None:
        await turn.reply(cards.status_list(self.access.open_for(turn.actor, turn.place)))

    async def handle(self, turn: Turn, rest: str) -> None:
        words = rest.split()
        inc: Incident | None = None
        if len(words) == 2:
            inc = await self.find(turn, words[0])
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
                    f"Type the account like this: {typed(turn.place, 'handle @ouraccount')}",
                    private=True,
                )
            )
            return
        if inc is None:
            here = self.access.visible(
                turn.actor, turn.place, self.store.latest_open_in(turn.place)
            )
            mine = [i for i in here if i.reporter == turn.actor.key]
            missing = [i for i in mine + here if not i.account]
            inc = (missing or mine or here or [None])[0]
        if inc is None:
            await turn.reply(
                cards.note(
                    "There's no open incident here to add the account to. Start one with "
                    f"{typed(turn.place, '').strip()}, or name it: "
                    f"{typed(turn.place, 'handle SEC-2026-0042 @ouraccount')}",
                    private=True,
                )
            )
            return
        self.store.set_account(inc.id, handle)
        self.event(inc, turn.actor, "account", f"Account: {handle}")
        fresh = self.store.get(inc.id)
        assert fresh is not None
        await self.sync_paging(fresh)  # pages still to come name the account
        await self.refresh(inc.id)
        await turn.reply(cards.note(f"{inc.id}: account set to {handle}.", private=True))

    # --- triage ---------------------------------------------------------------------

    async def action(self, turn: Turn) -> None:
        kind = turn.incoming.action_id.partition(":")[2]
        parts = turn.incoming.value.split("|")
        handler = {
            "triage": self.on_triage,
            "ack": self.on_ack,
            "done": self.on_done,
            "skip": self.on_skip,
            "reason": self.on_reason,
            "assign": self.on_assign,
        }.get(kind)
        if handler is None or not parts[0]:
            await turn.reply(cards.note("That button is no longer active.", private=True))
            return
        inc = await self.find(turn, parts[0])
        if inc is not None:
            await handler(turn, inc, parts[1:])

    async def on_triage(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        if len(parts) != 2:
            return
        step, choice = parts
        if inc.card_id is None and turn.incoming.message is not None:
            self.store.set_card(inc.id, turn.incoming.message.id)
        if not inc.is_open or inc.triage_step != step:
            return  # a double click or an old card: the first click already counted
        ok = False
        if step == "platform" and platform_id(choice):
            ok = self.store.answer(inc.id, "platform", "symptoms", platform=platform_id(choice))
            if ok:
                label = PLATFORM_LABELS[platform_id(choice) or "other"]
                self.event(inc, turn.actor, "triage", f"Platform: {label}")
        elif step == "symptoms" and choice == "next":
            if not inc.symptoms:
                await turn.reply(
                    cards.note("Pick at least one thing that is happening first.", private=True)
                )
                return
            ok = self.store.answer(inc.id, "symptoms", "access")
            if ok:
                chosen = ", ".join(SYMPTOM_LABELS[s] for s in inc.symptoms)
                self.event(inc, turn.actor, "triage", f"What is happening: {chosen}")
        elif step == "symptoms":
            symptom, _, state = choice.partition(":")
            if symptom in SYMPTOM_LABELS and state in ("on", "off"):
                ok = self.store.set_symptom(inc.id, symptom, state == "on")
        elif step == "access" and choice in ("yes", "no"):
            ok = self.store.answer(inc.id, "access", "harmful", has_access=int(choice == "yes"))
            if ok:
                self.event(inc, turn.actor, "triage", f"Admin access: {choice}")
        elif step == "harmful" and choice in ("yes", "no"):
            await self.finish_triage(turn, inc, choice == "yes")
            return
        if ok:
            fresh = self.store.get(inc.id)
            assert fresh is not None
            await turn.update_original(cards.triage_card(fresh))

    async def finish_triage(self, turn: Turn, inc: Incident, harmful: bool) -> None:
        severity = severity_for(inc.symptoms, bool(inc.has_access), harmful)
        steps = self.playbooks.steps_for(inc.platform, inc.symptoms, severity, inc.flags)
        if not self.store.finish_triage(
            inc.id,
            harmful_live=harmful,
            severity=severity,
            steps=steps,
            actor=turn.actor,
            now=self.now(),
        ):
            return  # already finished by an earlier click
        if self.pager is None:
            self.event(inc, BOT, "paging", "Paging is not set up, so nobody was paged")
        await self.after_triage(inc.id, turn)

    async def after_triage(self, incident_id: str, turn: Turn | None = None) -> None:
        """Open the room, start paging, then draw the incident card and post the
        checklist. Each part is skipped when already done, so this also finishes the
        job after a restart cut it short (see :meth:`resume`). Paging starts before
        the messages: it is the urgent part, and chat can be slow."""
        inc = self.store.get(incident_id)
        assert inc is not None
        team = None
        if self.pager is not None:
            team = self.pager.team_for(self.info(inc))
            if inc.team is None:
                self.store.set_team(inc.id, team.name)
        if inc.room is None:
            self.store.set_room(inc.id, await self.open_room(inc, team))
        inc = self.store.get(incident_id)
        assert inc is not None and inc.room is not None
        if self.pager is not None and self.pager.state(inc.id) is None:
            await self.start_paging(inc)
        if turn is not None:
            await turn.update_original(cards.incident_card(inc, self.tz))
        else:
            await self.update(inc.card, cards.incident_card(inc, self.tz))
        if inc.checklist_id is None:
            try:
                ref = await self.post(
                    inc.room, cards.checklist(inc, self.store.steps(inc.id), self.tz), turn
                )
            except DeliveryFailed as e:
                log.warning("could not post the checklist: %s", e.reason)
                ref = None
                self.event(inc, BOT, "error", f"Could not post the checklist ({e.reason})")
            if ref is not None:
                self.store.set_checklist(inc.id, ref.id)

    def unfinished(self) -> tuple[list[str], list[str]]:
        """(incidents triaged but not fully started, closed incidents still paging)."""
        started = [
            i.id
            for i in self.store.open_incidents()
            if i.triage_step == "done"
            and (
                i.room is None
                or i.checklist_id is None
                or (self.pager is not None and self.pager.state(i.id) is None)
            )
        ]
        closed = []
        if self.pager is not None:
            for iid in self.pager.unresolved():
                inc = self.store.get(iid)
                if inc is not None and not inc.is_open:
                    closed.append(iid)
        return started, closed

    async def resume(self, started: list[str], closed: list[str]) -> None:
        """After a restart: finish what a stopped process left half done, so a triaged
        incident is always paged and a closed one always stops paging."""
        for iid in started:
            try:
                await self.after_triage(iid)
            except Exception:  # noqa: BLE001 - one bad incident must not stop the rest
                log.exception("could not resume incident %s", iid)
        for iid in closed:
            inc = self.store.get(iid)
            if inc is not None:
                await self.resolve_paging(inc)

    async def open_room(self, inc: Incident, team: Any) -> Place:
        """Where the incident is worked: a private room when switched on and the
        platform has them (a Slack channel), else a thread under the card where the
        platform has threads, else the same conversation."""
        origin = inc.origin
        transport = self.services.transports.get(origin.platform)
        if transport is None:
            return origin
        setting = (self.services.settings.get("SECBOT_INCIDENT_CHANNELS") or "").strip().lower()
        if setting in _TRUE and transport.private_rooms:
            members = [inc.reporter, *(team.members if team is not None else [])]
            place = await transport.open_room(origin, cards.channel_name(inc), members)
            if place is not None:
                self.event(inc, BOT, "room", f"Private channel #{cards.channel_name(inc)} created")
                return place
            self.event(inc, BOT, "room", "Could not create a private channel; using a thread")
        if inc.card_id:
            return transport.thread_under(MessageRef(origin, inc.card_id))
        return origin

    async def start_paging(self, inc: Incident) -> None:
        if self.pager is None:
            return
        try:
            await self.pager.start(self.info(inc))
        except Exception as e:  # noqa: BLE001 - paging must never break the incident itself
            log.exception("paging failed to start for %s", inc.id)
            self.event(inc, BOT, "paging", f"Paging failed to start ({type(e).__name__})")
            return

    async def on_page_event(self, incident_id: str, text: str) -> None:
        """The pager's progress (pages sent, escalations, failures) onto the timeline.
        Failures, and a chain that ran out with nobody acknowledging, are also said in
        the incident's room, so responders know paging needs help."""
        inc = self.store.get(incident_id)
        if inc is None:
            return
        self.store.add_event(incident_id, self.now(), BOT, "paging", text)
        if text.startswith(ROOM_WORTHY) and inc.is_open and inc.room is not None:
            try:
                await self.post(inc.room, cards.note(f"{cards.drill(inc)}{inc.id}: {text}"))
            except DeliveryFailed as e:
                log.warning("could not tell the incident room about paging: %s", e.reason)

    # --- acknowledge ----------------------------------------------------------------

    async def on_ack(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        actor = turn.actor
        if not inc.is_open:
            await turn.reply(cards.note(f"{inc.id} is already closed.", private=True))
            return
        if inc.triage_step != "done":
            await turn.reply(
                cards.note(f"{inc.id} is still in triage: nobody has been paged yet.", private=True)
            )
            return
        is_admin = self.services.is_admin(actor)
        if self.pager is not None:
            allowed = self.pager.can_acknowledge(inc.id, actor.key, is_admin)
        else:
            allowed = is_admin or actor.key == inc.commander
        if not allowed:
            await turn.reply(
                cards.note(
                    f"You can't acknowledge {inc.id}: only someone in the paged team "
                    f"({inc.team or 'none'}) or an admin can. If you should be in that team, "
                    "ask an admin to add you to the routing file.",
                    private=True,
                )
            )
            return
        if inc.acked_at is not None:
            when = cards.hhmm(inc.acked_at, self.tz)
            await turn.reply(
                cards.note(
                    f"{inc.id} was already acknowledged by {inc.acked_by_name} at {when}.",
                    private=True,
                )
            )
            return
        if self.pager is not None:
            await self.pager.acknowledge(inc.id, actor.key)
        if not self.store.acknowledge(inc.id, actor, self.now()):
            return
        name = actor.name or actor.user_id
        self.event(inc, actor, "ack", f"Acknowledged by {name}")
        await self.refresh(inc.id, turn)
        await turn.reply(
            cards.note(f"{cards.drill(inc)}{name} acknowledged {inc.id}. Paging has stopped.")
        )

    async def ack_command(self, turn: Turn, rest: str) -> None:
        """``/compromised ack <id>``: for people paged by SMS or email, with no button."""
        inc = await self.find(turn, rest.split()[0] if rest.split() else "")
        if inc is not None:
            await self.on_ack(turn, inc, [])

    # --- checklist ------------------------------------------------------------------

    async def _open_step(self, turn: Turn, inc: Incident, parts: list[str]):
        step = self.store.step(inc.id, parts[0]) if parts else None
        if step is None:
            # Step ids appear nowhere on the checklist, so say which ones there are.
            ids = ", ".join(step.step_id for step in self.store.steps(inc.id))
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
        changed = self.store.advance_status(inc.id, self.now())
        if changed:
            self.event(inc, BOT, "status", f"Status: {changed}")
        await self.refresh(inc.id, turn, card=bool(changed))

    async def on_done(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        step = await self._open_step(turn, inc, parts)
        if step is None:
            return
        if self.store.resolve_step(inc.id, step.step_id, "done", turn.actor, self.now()):
            self.event(inc, turn.actor, "step", f"Done: {step.step_id}")
            await self.after_step(turn, inc)

    async def on_skip(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        step = await self._open_step(turn, inc, parts)
        if step is None or step.status != "open":
            return
        await turn.reply(cards.skip_prompt(inc, step, turn.place))

    async def on_reason(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        step = await self._open_step(turn, inc, parts[:1])
        if step is None or len(parts) < 2:
            return
        code = parts[1]
        if code not in cards.SKIP_LABELS or code == "other":
            await turn.reply(
                cards.note(
                    "Type the reason: "
                    + typed(turn.place, f"skip {inc.id} {step.step_id} <reason>"),
                    private=True,
                )
            )
            return
        await self.skip_step(turn, inc, step.step_id, cards.SKIP_LABELS[code])

    async def skip_step(self, turn: Turn, inc: Incident, step_id: str, reason: str) -> None:
        if self.store.resolve_step(inc.id, step_id, "skipped", turn.actor, self.now(), reason):
            self.event(inc, turn.actor, "step", f"Skipped: {step_id} ({reason})")
            await self.after_step(None, inc)
            await turn.reply(cards.note(f"Skipped {step_id} on {inc.id}: {reason}", private=True))
        else:
            await turn.reply(cards.note(f"{step_id} is already done or skipped.", private=True))

    async def on_assign(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        step = await self._open_step(turn, inc, parts)
        if step is None:
            return
        name = turn.actor.name or turn.actor.user_id
        if step.assignee == turn.actor.key:
            return  # a double click
        self.store.assign_step(inc.id, step.step_id, turn.actor.key, name, self.now())
        self.event(inc, turn.actor, "assign", f"{step.step_id} assigned to {name}")
        await self.refresh(inc.id, turn, card=False)

    async def skip_command(self, turn: Turn, rest: str) -> None:
        words = rest.split(maxsplit=2)
        if len(words) < 3:
            await turn.reply(
                cards.note(f"Type: {typed(turn.place, 'skip <id> <step> <reason>')}", private=True)
            )
            return
        inc = await self.find(turn, words[0])
        if inc is None:
            return
        refusal = text_limits.check("reason", words[2], text_limits.REASON)
        if refusal:
            await turn.reply(cards.note(refusal, private=True))
            return
        step = await self._open_step(turn, inc, [words[1]])
        if step is not None:
            await self.skip_step(turn, inc, step.step_id, text_limits.clean(words[2]))

    # --- other subcommands ----------------------------------------------------------

    async def evidence(self, turn: Turn, rest: str) -> None:
        ident, _, text = rest.partition(" ")
        text = text_limits.clean(text)
        if not text:
            await turn.reply(
                cards.note(
                    f"Type: {typed(turn.place, 'evidence <id> <link or note>')}", private=True
                )
            )
            return
        refusal = text_limits.check("evidence note", text, text_limits.EVIDENCE)
        if refusal:
            await turn.reply(cards.note(refusal, private=True))
            return
        inc = await self.find(turn, ident)
        if inc is None:
            return
        self.event(inc, turn.actor, "evidence", f"Evidence: {text}")
        name = turn.actor.name or turn.actor.user_id
        await turn.reply(cards.note(f"{cards.drill(inc)}{name} added evidence to {inc.id}: {text}"))

    async def assign(self, turn: Turn, rest: str) -> None:
        words = rest.split()
        if len(words) not in (2, 3):
            await turn.reply(
                cards.note(
                    f"Type: {typed(turn.place, 'assign <id> @person')} (new commander), or "
                    f"{typed(turn.place, 'assign <id> <step> @person')}",
                    private=True,
                )
            )
            return
        inc = await self.find(turn, words[0])
        if inc is None:
            return
        person = parse_person(words[-1], turn.place.platform)
        if person is None:
            await turn.reply(cards.note("I can't tell who that is: type @their-id.", private=True))
            return
        key, name = person
        if len(words) == 3:
            step = await self._open_step(turn, inc, [words[1]])
            if step is None:
                return
            self.store.assign_step(inc.id, step.step_id, key, name, self.now())
            self.event(inc, turn.actor, "assign", f"{step.step_id} assigned to {name}")
            await self.refresh(inc.id)
            await turn.reply(cards.note(f"{step.step_id} on {inc.id} is now with {name}."))
            return
        if not self.may_run(turn.actor, inc):
            await self.refuse(turn, inc, "hand over")
            return
        self.store.set_commander(inc.id, key, name, self.now())
        self.event(inc, turn.actor, "commander", f"Commander is now {name}")
        await self.refresh(inc.id)
        await turn.reply(cards.note(f"{cards.drill(inc)}{name} is now commander of {inc.id}."))

    async def severity(self, turn: Turn, rest: str) -> None:
        words = rest.split()
        if len(words) != 2 or words[1] not in ("1", "2", "3", "4"):
            await turn.reply(
                cards.note(
                    f"Type: {typed(turn.place, 'severity <id> <1-4>')} (1 is the worst)",
                    private=True,
                )
            )
            return
        inc = await self.find(turn, words[0])
        if inc is None:
            return
        if not self.may_run(turn.actor, inc):
            await self.refuse(turn, inc, "change the severity of")
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
            await self.sync_paging(inc)  # finishes a change cut short by a restart
            await turn.reply(cards.note(f"{inc.id} is already severity {new}.", private=True))
            return
        self.store.set_severity(inc.id, new)
        self.event(inc, turn.actor, "severity", f"Severity changed from {inc.severity} to {new}")
        steps = self.playbooks.steps_for(inc.platform, inc.symptoms, new, inc.flags)
        added = self.store.add_steps(inc.id, steps)
        if added:
            ids = ", ".join(s.step_id for s in self.store.steps(inc.id)[-added:])
            self.event(inc, BOT, "steps", f"Checklist steps added for severity {new}: {ids}")
        fresh = self.store.get(inc.id)
        assert fresh is not None
        team = await self.sync_paging(fresh)
        await self.refresh(inc.id)
        text = f"{cards.drill(inc)}{inc.id} is now severity {new}."
        if team:
            text += f" Team {team} is being paged too, and needs to acknowledge."
        await turn.reply(cards.note(text))

    async def sync_paging(self, inc: Incident) -> str | None:
        """Tell the pager the incident's current facts. When a raised severity routes
        it to another team, that team is paged (the pager records it on the timeline),
        the incident needs acknowledging again, and in a private Slack channel the new
        team is invited. Returns the newly paged team. Safe to repeat: a change cut short
        by a restart is finished by the next call."""
        if self.pager is None or not inc.is_open or inc.triage_step != "done":
            return None
        try:
            await self.pager.update(self.info(inc))
        except Exception as e:  # noqa: BLE001 - paging must never break the incident itself
            log.exception("paging update failed for %s", inc.id)
            self.event(inc, BOT, "paging", f"Paging could not be updated ({type(e).__name__})")
            return None
        team = self.pager.team(inc.id)
        if not team or team == inc.team:
            return None
        self.store.switch_team(inc.id, team)
        if inc.room is not None and inc.room.channel != inc.origin.channel:
            transport = self.services.transports.get(inc.room.platform)
            if transport is not None:
                await transport.invite(inc.room, self.pager.members(inc.id))
        return team

    async def flag(self, turn: Turn, rest: str) -> None:
        words = rest.split()
        if len(words) != 2 or words[1].lower() not in FLAGS:
            await turn.reply(
                cards.note(f"Type: {typed(turn.place, 'flag <id> fraud')}", private=True)
            )
            return
        inc = await self.find(turn, words[0])
        if inc is None:
            return
        flag = words[1].lower()
        if self.store.add_flag(inc.id, flag):
            self.event(inc, turn.actor, "flag", FLAGS[flag])
            fresh = self.store.get(inc.id)
            if fresh is not None and fresh.triage_step == "done":
                self.store.add_steps(
                    inc.id,
                    self.playbooks.steps_for(
                        fresh.platform, fresh.symptoms, fresh.severity, fresh.flags
                    ),
                )
            await self.refresh(inc.id)
        await turn.reply(cards.note(f"{inc.id}: {FLAGS[flag]}.", private=True))

    async def close(self, turn: Turn, rest: str) -> None:
        ident, _, summary = rest.partition(" ")
        inc = await self.find(turn, ident)
        if inc is None:
            return
        if not self.may_run(turn.actor, inc):
            await self.refuse(turn, inc, "close")
            return
        summary = text_limits.clean(summary)
        refusal = text_limits.check("summary", summary, text_limits.SUMMARY)
        if refusal:
            await turn.reply(cards.note(refusal, private=True))
            return
        if not summary:
            await turn.reply(
                cards.note(
                    "Add a short summary: " + typed(turn.place, f"close {inc.id} <what happened>"),
                    private=True,
                )
            )
            return
        if not self.store.close(inc.id, summary, self.now()):
            await self.resolve_paging(inc)  # in case a restart cut the first close short
            await turn.reply(cards.note(f"{inc.id} is already closed.", private=True))
            return
        name = turn.actor.name or turn.actor.user_id
        self.event(inc, turn.actor, "close", f"Closed by {name}: {summary}")
        await self.resolve_paging(inc)
        await self.refresh(inc.id)
        await turn.reply(cards.note(f"{cards.drill(inc)}{inc.id} closed by {name}: {summary}"))
        if inc.drill:
            await turn.reply(self.report_message(inc.id))

    async def resolve_paging(self, inc: Incident) -> None:
        """Stop paging for a closed incident and tell PagerDuty; safe to repeat."""
        if self.pager is None or self.pager.state(inc.id) in (None, "resolved"):
            return
        try:
            await self.pager.resolve(inc.id)
        except Exception as e:  # noqa: BLE001 - closing must not fail on paging
            log.exception("paging resolve failed for %s", inc.id)
            self.event(inc, BOT, "paging", f"Resolve failed ({type(e).__name__})")

    async def report(self, turn: Turn, rest: str) -> None:
        inc = await self.find(turn, rest.split()[0] if rest.split() else "")
        if inc is not None:
            await turn.reply(self.report_message(inc.id))

    def report_message(self, incident_id: str) -> Message:
        inc = self.store.get(incident_id)
        assert inc is not None
        steps = self.store.steps(inc.id)
        events = self.store.events(inc.id)
        pages = self.pager.pages(inc.id) if self.pager is not None else []
        acks = acknowledgements(inc, events)
        acked_at = acks[0][0] if acks else None
        if acked_at is None and self.pager is not None:
            acked_at = self.pager.acknowledged_at(inc.id)
        markdown = build_report(inc, steps, events, pages, acked_at, self.tz)
        t = timings(inc, steps, acked_at)
        kind = "Drill report" if inc.drill else "Post-incident report"
        text = (
            f"{kind} for {inc.id}: time to acknowledge {duration(t['acknowledge'])}, "
            f"time to contain {duration(t['contain'])}, {pages_summary(pages)}."
        )
        return Message(
            text=text,
            blocks=(Section(text),),
            attachment=(f"{inc.id}{'-drill' if inc.drill else ''}-report.md", markdown),
        )


def pages_summary(pages: list) -> str:
    """Like "3 pages sent, 4 failed": only pages that really went out count as sent."""
    sent = sum(1 for p in pages if getattr(p, "status", None) == "sent")
    failed = sum(1 for p in pages if getattr(p, "status", None) == "failed")
    text = f"{sent} page{'' if sent == 1 else 's'} sent"
    return text + (f", {failed} failed" if failed else "")


async def resume_worker(services: Services) -> AsyncIterator[None]:
    """At start-up, finish incidents a stopped process left half started or half
    closed. The list is taken before any request is served, so it never races a
    triage finishing now; the work itself runs in a task so start-up is not held up."""
    desk: IncidentDesk = services.extras["incidents"]
    started, closed = desk.unfinished()
    task = asyncio.create_task(desk.resume(started, closed), name="secbot-incidents-resume")
    try:
        yield
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def setup(host: FeatureHost) -> None:
    playbooks = load_playbooks()  # refuses start-up when the playbooks fail lint
    from incidents.paging import paging_setup

    paging_setup(host)
    pager = host.services.extras.get("pager")
    desk = IncidentDesk(host.services, playbooks, pager)
    if pager is not None:
        pager.on_event = desk.on_page_event
        pager.ack_hint = ACK_HINT
    host.services.extras["incidents"] = desk
    host.add_migrations(DOMAIN, MIGRATIONS)
    host.registry.add_command(
        "compromised",
        "Report a hijacked social media account and work through recovery",
        desk.command,
        usage="compromised [platform] [@account]",
    )
    host.registry.add_action("incident", desk.action)
    host.add_background(resume_worker)
