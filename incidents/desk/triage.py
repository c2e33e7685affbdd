"""The five triage questions on one card, then everything that follows the last answer.

Answers are saved as they come, so a restart mid-triage loses nothing. The last one
fixes the severity (``incidents.triage``), snapshots the checklist from the
playbooks, opens the incident's room and starts paging. ``unfinished``/``resume``
finish at start-up what a stopped process left half done.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from bot.core import DeliveryFailed, Turn
from bot.core.model import MessageRef, Place
from incidents import cards
from incidents.desk.job import DeskJob
from incidents.store import BOT, Incident
from incidents.triage import (
    ANSWER_LABELS,
    LAST_QUESTION,
    NOT_SURE,
    PLATFORM_LABELS,
    SYMPTOM_LABELS,
    SYMPTOMS,
    UNSURE_SYMPTOM,
    assess,
    platform_id,
)

log = logging.getLogger(__name__)


def _old(answer: str) -> int | None:
    """The answer for the old yes/no column (None for "Not sure")."""
    return {"yes": 1, "no": 0}.get(answer)


class Triage(DeskJob):
    """Triage clicks, finishing triage, the incident's room, resuming after a restart."""

    async def on_triage(self, turn: Turn, inc: Incident, parts: list[str]) -> None:
        if len(parts) != 2:
            return
        step, choice = parts
        if inc.card_id is None and turn.incoming.message is not None:
            await self.store.set_card(inc.id, turn.incoming.message.id)
        if not inc.is_open or inc.triage_step != step:
            return  # a double click or an old card: the first click already counted
        ok = False
        answers = self.store.triage
        if step == "platform" and (platform_id(choice) or choice == NOT_SURE):
            platform = platform_id(choice) or NOT_SURE
            ok = await answers.answer(inc.id, "platform", "symptoms", platform=platform)
            if ok:
                await self.desk.event(
                    inc, turn.actor, "triage", f"Platform: {PLATFORM_LABELS[platform]}"
                )
        elif step == "symptoms" and choice in ("next", NOT_SURE):
            chosen = set(inc.symptoms) | ({UNSURE_SYMPTOM} if choice == NOT_SURE else set())
            if not chosen:
                await turn.reply(
                    cards.note(
                        "Pick at least one thing that is happening first, or press Not sure.",
                        private=True,
                    )
                )
                return
            ok = await answers.answer(
                inc.id, "symptoms", "access", symptoms=json.dumps(sorted(chosen))
            )
            if ok:
                said = ", ".join(SYMPTOM_LABELS[s] for s in sorted(chosen))
                await self.desk.event(inc, turn.actor, "triage", f"What is happening: {said}")
        elif step == "symptoms":
            symptom, _, state = choice.partition(":")
            if symptom in dict(SYMPTOMS) and state in ("on", "off"):
                ok = await answers.set_symptom(inc.id, symptom, state == "on")
        elif step == "access" and choice in ANSWER_LABELS:
            ok = await answers.answer(
                inc.id, "access", "harmful", access=choice, has_access=_old(choice)
            )
            if ok:
                said = ANSWER_LABELS[choice]
                await self.desk.event(inc, turn.actor, "triage", f"Admin access: {said.lower()}")
        elif step == "harmful" and choice in ANSWER_LABELS:
            ok = await answers.answer(
                inc.id, "harmful", "personal", harmful=choice, harmful_live=_old(choice)
            )
            if ok:
                said = ANSWER_LABELS[choice]
                await self.desk.event(inc, turn.actor, "triage", f"Harmful content live: {said}")
        elif step == LAST_QUESTION and choice in ANSWER_LABELS:
            await self.finish(turn, inc, choice)
            return
        if ok:
            fresh = await self.store.get(inc.id)
            assert fresh is not None
            await turn.update_original(cards.triage_card(fresh))

    async def finish(self, turn: Turn, inc: Incident, personal_data: str) -> None:
        """The last answer: the severity and the kind follow from all of them
        (``incidents.triage.assess``), and the checklist is chosen for those facts."""
        facts = replace(inc.facts, personal_data=personal_data)  # type: ignore[arg-type]
        facts = replace(
            facts,
            severity=assess(facts.symptoms, facts.access, facts.harmful, facts.personal_data),
        )
        said = f"Direct messages or personal data exposed: {ANSWER_LABELS[personal_data]}"
        if not await self.store.triage.finish(
            inc.id,
            facts=facts,
            steps=self.playbooks.steps_for(facts),
            actor=turn.actor,
            now=self.desk.now(),
            said=said,
        ):
            return  # already finished by an earlier click
        if self.pager is None:
            await self.desk.event(inc, BOT, "paging", "Paging is not set up, so nobody was paged")
        await self.after_triage(inc.id, turn)

    async def after_triage(self, incident_id: str, turn: Turn | None = None) -> None:
        """Open the room, start paging, then draw the incident card and post the
        checklist. Each part is skipped when already done, so this also finishes the
        job after a restart cut it short (see :meth:`resume`). Paging starts before
        the messages: it is the urgent part, and chat can be slow."""
        inc = await self.store.get(incident_id)
        assert inc is not None
        team = None
        if self.pager is not None:
            team = self.pager.team_for(self.desk.paging.info(inc))
            if inc.team is None:
                await self.store.set_team(inc.id, team.name)
        if inc.room is None:
            await self.store.set_room(inc.id, await self.open_room(inc, team))
        inc = await self.store.get(incident_id)
        assert inc is not None and inc.room is not None
        if self.pager is not None and await self.pager.state(inc.id) is None:
            await self.desk.paging.start(inc)
        await self.desk.ico.from_triage(inc)
        await self.desk.redraw_card(inc, turn)
        if inc.checklist_id is None:
            try:
                ref = await self.desk.post(inc.room, await self.desk.checklist.message(inc), turn)
            except DeliveryFailed as e:
                log.warning("could not post the checklist: %s", e.reason)
                ref = None
                await self.desk.event(
                    inc, BOT, "error", f"Could not post the checklist ({e.reason})"
                )
            if ref is not None:
                await self.store.set_checklist(inc.id, ref.id)

    async def unfinished(self) -> tuple[list[str], list[str]]:
        """(incidents triaged but not fully started, closed incidents still paging)."""
        started = [
            i.id
            for i in await self.store.open_incidents()
            if i.triage_step == "done"
            and (
                i.room is None
                or i.checklist_id is None
                or (self.pager is not None and await self.pager.state(i.id) is None)
            )
        ]
        closed = []
        if self.pager is not None:
            for iid in await self.pager.unresolved():
                inc = await self.store.get(iid)
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
            inc = await self.store.get(iid)
            if inc is not None:
                await self.desk.paging.resolve(inc)

    async def open_room(self, inc: Incident, team: Any) -> Place:
        """Where the incident is worked: a private room when switched on and the
        platform has them (a Slack channel), else a thread under the card where the
        platform has threads, else the same conversation."""
        origin = inc.origin
        transport = self.services.transports.get(origin.platform)
        if transport is None:
            return origin
        if self.services.settings.incident_channels and transport.private_rooms:
            members = [inc.reporter, *(team.members if team is not None else [])]
            place = await transport.open_room(origin, cards.channel_name(inc), members)
            if place is not None:
                created = f"Private channel #{cards.channel_name(inc)} created"
                await self.desk.event(inc, BOT, "room", created)
                return place
            await self.desk.event(
                inc, BOT, "room", "Could not create a private channel; using a thread"
            )
        if inc.card_id:
            return transport.thread_under(MessageRef(origin, inc.card_id))
        return origin
