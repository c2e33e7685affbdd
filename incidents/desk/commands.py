"""``/compromised``: where every sub-command and every ``incident:`` button is sent.

Start here. ``/compromised [platform] [@account] [dept=<name>]`` (no sub-command)
starts an incident (``start``); ``/compromised <sub> ...`` goes to the job that
does it (``incidents.desk.lifecycle``, ``.checklist``, ``.acknowledgement``,
``.report``, ``.drills``, ``incidents.people``); buttons go the same way.
"""

from __future__ import annotations

import logging

from bot.core import Turn
from bot.core.actions import value_parts, verb
from bot.core.hints import typed
from bot.core.model import Place
from incidents import cards, people, text_limits
from incidents.access import refused_start
from incidents.desk.job import DeskJob
from incidents.store import StartRefused
from incidents.triage import parse_start

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
    "/compromised flag <id> fraud — fraud is involved (adds the Report Fraud step)\n"
    "/compromised close <id> <summary> — close it (commander or admin)\n"
    "/compromised report <id> — the post-incident report as a file\n"
    "/compromised drill [platform] [@account] — practise the whole flow"
)


def usage_for(place: Place) -> str:
    """USAGE with each command written the way it is typed where the person is."""
    return "\n".join(typed(place, line.removeprefix("/")) for line in USAGE.split("\n"))


class Commands(DeskJob):
    """The /compromised dispatcher and starting an incident."""

    async def command(self, turn: Turn) -> None:
        head, _, rest = turn.args.strip().partition(" ")
        d = self.desk
        sub = {
            "status": d.lifecycle.status,
            "close": d.lifecycle.close,
            "report": d.reports.report,
            "drill": d.drills.drill,
            "assign": d.lifecycle.assign,
            "severity": d.lifecycle.severity,
            "evidence": d.lifecycle.evidence,
            "skip": d.checklist.skip_command,
            "handle": d.lifecycle.handle,
            "flag": d.lifecycle.flag,
            "add": lambda turn, rest: people.add(d, turn, rest),
            "people": lambda turn, rest: people.people(d, turn, rest),
            "ack": d.acks.ack_command,
            "acknowledge": d.acks.ack_command,
            "help": self.usage,
        }.get(head.lower())
        if sub is not None:
            await sub(turn, rest.strip())
        else:
            await self.start(turn, turn.args, drill=False)

    async def action(self, turn: Turn) -> None:
        kind = verb(turn.incoming.action_id)
        parts = list(value_parts(turn.incoming.value) or ())
        d = self.desk
        handler = {
            "triage": d.triage.on_triage,
            "ack": d.acks.on_ack,
            "done": d.checklist.on_done,
            "skip": d.checklist.on_skip,
            "reason": d.checklist.on_reason,
            "assign": d.checklist.on_assign,
        }.get(kind)
        if handler is None or not parts or not parts[0]:
            await turn.reply(cards.note("That button is no longer active.", private=True))
            return
        inc = await self.desk.find(turn, parts[0])
        if inc is not None:
            await handler(turn, inc, parts[1:])

    async def usage(self, turn: Turn, rest: str = "") -> None:
        await turn.reply(cards.note(usage_for(turn.place), private=True))

    async def start(self, turn: Turn, args: str, *, drill: bool) -> None:
        parsed = parse_start(args)
        if parsed.error:
            await turn.reply(
                cards.note(
                    f"{parsed.error} Type {typed(turn.place, 'compromised')}, or"
                    f" {typed(turn.place, 'compromised x @ouraccount')} to name the platform"
                    " and account."
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
        department = text_limits.clean(parsed.department or "") or self.services.settings.department
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
                self.desk.now(),
                reporter=turn.actor,
                origin=turn.place,
                drill=drill,
                platform=parsed.platform,
                account=parsed.handle,
                department=department,
                limits=self.desk.limits,
                delivery_key=key,
            )
        except StartRefused as e:
            log.info("incident start refused (%s) for %s", e.kind, turn.actor.key)
            await turn.reply(cards.note(refused_start(turn.place, e), private=True))
            return
        if drill:
            self.desk.event(inc, turn.actor, "drill", "This is a drill")
        ref = await turn.reply(cards.triage_card(inc))
        if ref is not None:
            self.store.set_card(inc.id, ref.id)
