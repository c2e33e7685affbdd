"""``/compromised``: where every sub-command and every ``incident:`` button is sent.

Start here. ``/compromised [platform] [@account] [dept=<name>]`` (no sub-command)
starts an incident (``start``), and so does ``/compromised`` with everyday words
("we've been hacked on X, @dhsc"): what can be read is filled in, nothing is refused.
``/compromised <sub> ...`` goes to the job that does it (``incidents.desk.lifecycle``,
``.checklist``, ``.acknowledgement``, ``.report``, ``.drills``, ``incidents.people``);
buttons go the same way. A single mistyped sub-command ("stauts") gets "Did you mean".

``listen`` hears a mention or a direct message that names no command: when it says
an account was hacked, compromised or taken over, it offers a button to start
(``offer``), with the platform and account it could read.
"""

from __future__ import annotations

import logging

from rapidfuzz import fuzz, process

from bot.core import Turn, parse_text
from bot.core.actions import button_value, value_parts, verb
from bot.core.hints import typed
from bot.core.inert import inert
from bot.core.model import Actions, Button, Message, Place, Section
from incidents import cards, people, text_limits
from incidents.access import refused_start
from incidents.desk.job import DeskJob
from incidents.register.model import Account
from incidents.register.platforms import triage_platform
from incidents.store import StartRefused
from incidents.triage import PLATFORM_LABELS, parse_start, sounds_hacked

log = logging.getLogger(__name__)

WORDS_SHOWN = 300  # the reporter's own words kept on the timeline, at most

USAGE = (
    "/compromised [platform] [@account] [dept=<name>] — report a compromised account\n"
    "/compromised status — open incidents you're part of\n"
    "/compromised ack <id> — acknowledge a page (the paged team or an admin)\n"
    "/compromised handle [<id>] @account — say which account it is\n"
    "/compromised evidence <id> <link or note> — add evidence to the timeline\n"
    "/compromised skip <id> <step number> <reason> — skip a checklist step\n"
    "/compromised assign <id> @person — hand over as commander (or: <id> <step number> @person)\n"
    "/compromised handover <id> @person — the same as assign\n"
    "/compromised add <id> @person — let someone see and work on the incident\n"
    "/compromised people <id> — who is on the incident\n"
    "/compromised severity <id> <1-4> — change the severity (commander or admin)\n"
    "/compromised takedown <id> — fake accounts reported for takedown (impersonation)\n"
    "/compromised flag <id> fraud — fraud is involved (adds the Report Fraud step)\n"
    "/compromised ico <id> — personal data may be exposed: start the ICO 72-hour clock\n"
    "/compromised close <id> <summary> — close it (commander or admin)\n"
    "/compromised holding <id> — a holding statement for the press office to approve\n"
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
            "handover": d.lifecycle.assign,
            "severity": d.lifecycle.severity,
            "evidence": d.lifecycle.evidence,
            "skip": d.checklist.skip_command,
            "handle": d.lifecycle.handle,
            "flag": d.lifecycle.flag,
            "add": lambda turn, rest: people.add(d, turn, rest),
            "people": lambda turn, rest: people.people(d, turn, rest),
            "ico": d.ico.command,
            "ack": d.acks.ack_command,
            "acknowledge": d.acks.ack_command,
            "takedown": d.takedowns.command,
            "takedowns": d.takedowns.command,
            "holding": d.holding.command,
            "help": self.usage,
        }
        found = sub.get(head.lower())
        if found is not None:
            await found(turn, rest.strip())
            return
        meant = self.mistyped(head, rest, list(sub))
        if meant:
            await turn.reply(
                cards.note(
                    f"Did you mean {typed(turn.place, f'compromised {meant}')}? To report a"
                    f" compromised account, type {typed(turn.place, 'compromised')} on its"
                    " own, or say what happened after it.",
                    private=True,
                )
            )
            return
        await self.start(turn, turn.args, drill=False)

    @staticmethod
    def mistyped(head: str, rest: str, subs: list[str]) -> str | None:
        """The sub-command one word alone most likely meant ("stauts" → status), when
        it is not a platform or an account name, which start an incident."""
        parsed = parse_start(head)
        if rest.strip() or not head or parsed.platform or parsed.handle or parsed.department:
            return None
        best = process.extractOne(head.lower(), subs, scorer=fuzz.ratio, score_cutoff=75)
        return best[0] if best else None

    async def action(self, turn: Turn) -> None:
        kind = verb(turn.incoming.action_id)
        parts = list(value_parts(turn.incoming.value) or ())
        d = self.desk
        if kind == "offer":
            await self.offer_accepted(turn, list(value_parts(turn.incoming.value, 2) or ()))
            return
        if kind == "pick":
            await self.account_picked(turn, turn.incoming.value)
            return
        handler = {
            "triage": d.triage.on_triage,
            "ack": d.acks.on_ack,
            "done": d.checklist.on_done,
            "skip": d.checklist.on_skip,
            "reason": d.checklist.on_reason,
            "assign": d.checklist.on_assign,
            "step": d.checklist.on_step,
            "phase": d.checklist.on_phase,
            "close": d.checklist.on_close,
            "holding": d.holding.show,
            "hold-edit": d.holding.on_edit,
            "hold-approve": d.holding.on_approve,
            "hold-posted": d.holding.on_posted,
            "remoteclose": d.remote.on_close,
        }.get(kind)
        if handler is None or not parts or not parts[0]:
            await turn.reply(cards.note("That button is no longer active.", private=True))
            return
        inc = await self.desk.find(turn, parts[0])
        if inc is not None:
            await handler(turn, inc, parts[1:])

    async def usage(self, turn: Turn, rest: str = "") -> None:
        await turn.reply(cards.note(usage_for(turn.place), private=True))

    async def listen(self, turn: Turn) -> bool:
        """A mention or direct message that names no command: if it says an account was
        hacked, offer to start, with the platform and account read from the words."""
        head, rest = parse_text(turn.incoming.text or "")  # without the @secbot mention
        text = f"{head} {rest}"
        if not rest or not sounds_hacked(text):
            return False  # one word alone is a mistyped command: "Did you mean" answers it
        parsed = parse_start(text)
        platform, handle = parsed.platform or "", parsed.handle or ""
        start = Button("Report it now", "incident:offer", button_value(platform, handle), "primary")
        account = f"the account on {PLATFORM_LABELS[platform]}" if platform else "the account"
        words = (
            f"I'm sorry to hear that. I can help you report {account} and get it back,"
            " step by step. I'll ask a few questions; if you don't know an answer, that's"
            f" fine. Press Report it now, or type {typed(turn.place, 'compromised')}."
        )
        # In the conversation it was said in, so the report is started (and worked) there.
        await turn.reply(Message(words, (Section(words), Actions((start,)))))
        return True

    async def account_picked(self, turn: Turn, value: str) -> None:
        """A registered account chosen from the offer (``registered.py``), or "Another
        account" (with the platform the reporter named, if any): start, keyed on the
        offer message like the offer below."""
        account = None
        picked, *rest = value_parts(value) or ("",)
        if picked.isdigit():
            account = await self.desk.registered.get(turn, int(picked))
            if account is None:
                await turn.reply(cards.note("That account is not in the register now.",
                                            private=True))  # fmt: skip
                return
        platform = rest[0] if rest and rest[0] in PLATFORM_LABELS else ""
        await self.offer_accepted(turn, [platform] if platform else [], account=account, ask=False)

    async def offer_accepted(
        self, turn: Turn, parts: list[str], *, account: Account | None = None, ask: bool = True
    ) -> None:
        """The offer's button: start with the platform and account read from the words.
        The key is the offer message, so a second click finds the same incident."""
        platform, handle = (parts + ["", ""])[:2]
        message = turn.incoming.message
        key = f"offer:{turn.place.platform}:{turn.place.channel}:{message.id}" if message else None
        args = " ".join(w for w in (platform, handle) if w)
        await self.start(turn, args, drill=False, key=key, account=account, ask=ask)
        inc = await self.store.for_delivery(key) if key else None
        if inc is not None:  # the button is spent: say where the questions are instead
            await turn.update_original(
                cards.note(f"Report {inc.id} started: the questions are in the card below.")
            )

    async def start(
        self,
        turn: Turn,
        args: str,
        *,
        drill: bool,
        key: str | None = None,
        account: Account | None = None,
        ask: bool = True,
    ) -> None:
        """Start an incident. ``account``: the registered account it is about (picked
        from the offer); ``ask``: with no account named, offer the registered ones first
        (``registered.py``)."""
        if not turn.place.channel:  # a delivery naming no conversation: nowhere to work it
            await turn.reply(
                cards.note("I can't start a report here. Try again from a channel.", private=True)
            )
            return
        parsed = parse_start(args)
        if parsed.error:
            await turn.reply(
                cards.note(
                    f"{parsed.error} Type {typed(turn.place, 'compromised')}, or"
                    f" {typed(turn.place, 'compromised x @ouraccount')} to name the platform"
                    " and account, or say what happened after it."
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
        key = key or turn.incoming.delivery_id or None
        inc = await self.store.for_delivery(key) if key else None
        if inc is not None:
            # A replay after a crash: the incident exists. Post its triage card only if
            # that post never completed (the incident row is the post's recorded intent).
            # A second click on an offer is not a replay: the first click posts the card.
            if not turn.replay and key != turn.incoming.delivery_id:
                await turn.reply(cards.note(f"{inc.id} is already started.", private=True))
            elif inc.card_id is None:
                ref = await turn.reply(cards.triage_card(inc))
                if ref is not None:
                    await self.store.set_card(inc.id, ref.id)
            return
        registered = self.desk.registered
        if account is None:
            account = await registered.resolve(turn, parsed.platform, parsed.handle)
        if account is None and not parsed.handle:
            if drill:
                account = await registered.for_drill(turn)
            elif ask and await registered.offer(turn, parsed.platform):
                return
        platform, handle = parsed.platform, parsed.handle
        if account is not None:
            platform = platform or triage_platform(account.platform)
            handle = handle or account.handle
        try:
            inc = await self.store.create(
                self.desk.now(),
                reporter=turn.actor,
                origin=turn.place,
                drill=drill,
                platform=platform,
                account=handle,
                department=department,
                limits=self.desk.limits,
                delivery_key=key,
                owning_team=account.team or None if account else None,
            )
        except StartRefused as e:
            log.info("incident start refused (%s) for %s", e.kind, turn.actor.key)
            await turn.reply(cards.note(refused_start(turn.place, e), private=True))
            return
        if drill:
            await self.desk.event(inc, turn.actor, "drill", "This is a drill")
        if account is not None:
            await registered.prefill(turn, inc, account)
        words = inert(parsed.words).strip()
        if words:
            if len(words) > WORDS_SHOWN:
                words = words[: WORDS_SHOWN - 1] + "…"
            await self.desk.event(inc, turn.actor, "report", f"In their words: “{words}”")
        ref = await turn.reply(cards.triage_card(inc))
        if ref is not None:
            await self.store.set_card(inc.id, ref.id)
