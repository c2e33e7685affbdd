"""Access reviews: once a period each account's owner is sent who has access, with Keep
and Remove for each person; reminded every working day until every person is decided;
overdue after ``SECBOT_ACCESS_REVIEW_DAYS`` working days.

A review is opened (and its first message sent) in working hours only, by the worker's
round or an admin's ``/secbot access review``. Its reminder is the same message again,
claimed before it is sent (:meth:`ReviewStore.claim_reminder`), so a restart repeats
none and a crash between opening and sending loses nothing: the next working morning's
reminder carries the buttons. Remove takes the person off the register at once (the
owner still removes them on the platform itself; the message says so). A review the
worker opened has no place of its own: on Teams the transport opens the owner's 1:1 chat
through a conversation it knows in the same tenant (:func:`bot.core.reach.reach`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.core import DeliveryFailed
from bot.core.actions import action_id, button_value, value_ints
from bot.core.inert import one_line
from bot.core.model import Actions, Actor, Button, Context, Heading, Message, Place, Section
from bot.core.reach import reach
from bot.core.tenancy import tenants_of
from bot.storage.sql import execute
from incidents.register import audit_trail
from incidents.register.tables import register_accounts
from incidents.reviews import calendar
from incidents.reviews.store import Decision, Review, Reviewed, ReviewStore
from incidents.times import london

if TYPE_CHECKING:
    from bot.core import Services, Turn
    from incidents.register.store import RegisterStore

log = logging.getLogger(__name__)

KEEP, REMOVE = action_id("access", "keep"), action_id("access", "remove")
SHOWN = 20  # people with buttons in one message (Slack allows 50 blocks)
LONGEST_WAIT = 300.0
NOT_YOURS = (
    "Only the account's owner and secbot admins can answer its access review. If it is "
    "yours, check you are answering from the same workspace."
)


async def tell(
    services: Services, tenant: str, user_id: str, name: str, msg: Message, origin: str
) -> None:
    """A message to one person of the tenant: their direct chat, or privately through
    ``origin`` (a Place as JSON, "" for none) where the platform needs that (Teams)."""
    platform, _, workspace = tenant.partition(":")
    try:
        reached = await reach(
            services,
            Actor(platform, user_id, name),
            workspace,
            msg,
            Place.from_json(origin) if origin else None,
        )
    except DeliveryFailed as e:
        log.warning("a message to an account owner could not be sent (%s)", e.reason)
        return
    if not reached:
        log.warning("no front door for an account owner's message (%s)", platform)


def render(review: Review, decided: dict[str, Decision], *, reminder: bool = False) -> Message:
    title = one_line(review.account_title, 120)
    due = f"{review.due_on:%A} {review.due_on.day} {review.due_on:%B %Y}"
    if review.done_at is not None or len(decided) == len(review.people):
        kept = sum(d.decision == "keep" for d in decided.values())
        removed = len(decided) - kept
        who = review.done_by_name or "the owner"
        when = london(review.done_at) if review.done_at else ""
        text = (
            f"Access review of {title} complete: {kept} kept, {removed} removed. Attested by"
            f" {who}{', ' + when if when else ''}."
        )
        lines = [f"{d.person_name}: {d.decision}" for d in decided.values()]
        return Message(
            text + "\n" + "\n".join(lines),
            (Heading(f"Access review: {title}"), Section(text), Context(tuple(lines[:10]))),
        )
    intro = (
        f"{'Reminder: ' if reminder else ''}please check who can get into {title}. Keep"
        " the people who still need it and Remove anyone who doesn't (then take them off"
        f" on the platform too). Due by {due}."
    )
    blocks: list = [Heading(f"Access review: {title}"), Section(intro)]
    lines = []
    shown = 0
    for index, person in enumerate(review.people):
        label = one_line(person.name + (f" ({person.role})" if person.role else ""), 150)
        done = decided.get(person.key)
        if done is not None:
            line = f"{label}: {done.decision}, by {done.decided_by_name}"
            blocks.append(Section(line))
        elif shown < SHOWN:
            shown += 1
            line = label
            value = button_value(review.id, index)
            blocks.append(Section(label))
            blocks.append(
                Actions(
                    (
                        Button("Keep", KEEP, value, "primary"),
                        Button("Remove", REMOVE, value, "danger"),
                    )
                )
            )
        else:
            continue
        lines.append(line)
    waiting = len(review.people) - len(decided) - shown
    if waiting > 0:
        blocks.append(Context((f"…and {waiting} more after these.",)))
    blocks = blocks[:50]
    return Message(intro + "\n" + "\n".join(lines), tuple(blocks))


LISTED = 40  # one section a line, inside Slack's 50 blocks


def _listed(lines: list[str]) -> tuple:
    """A section a line, and how many more there are when they don't all fit."""
    more = len(lines) - LISTED
    return tuple(Section(x) for x in lines[:LISTED]) + (
        (Context((f"…and {more} more.",)),) if more > 0 else ()
    )


class AccessReviews:
    def __init__(self, services: Services, register: RegisterStore, store: ReviewStore):
        self.services = services
        self.register = register
        self.store = store

    def now(self) -> datetime:
        return self.services.clock.now()

    # --- opening and reminding ---------------------------------------------------------

    async def tenants(self) -> list[str]:
        stmt = select(register_accounts.c.tenant).distinct()
        return sorted(str(r[0]) for r in (await execute(self.store.db, stmt)).all())

    async def open_due(
        self, tenants: list[str] | None = None, origin: str = "", *, asked: bool = False
    ) -> int:
        """Open and send every review due this period; how many were opened. ``origin``
        (a Place as JSON) is where an admin asked, through which owners are reached on a
        platform that needs it. The worker (``asked`` False) leaves an account registered
        during this period until the next: registering it was its review."""
        now = self.now()
        settings = self.services.settings
        period = calendar.period_start(calendar.today(now), settings.access_review_months)
        done = await self.store.reviewed_accounts(period.isoformat())
        opened = 0
        for tenant in tenants if tenants is not None else await self.tenants():
            for account in await self.register.accounts(tenant):
                owner = account.owner
                last = account.details.last_reviewed
                if account.id in done or owner is None or not owner.user_id:
                    continue
                if (last is not None and last >= period) or not account.access:
                    continue
                if not asked and calendar.today(account.created_at) >= period:
                    continue
                review = await self.store.open(
                    tenant=tenant,
                    account_id=account.id,
                    account_title=account.title,
                    period=period.isoformat(),
                    owner_id=owner.user_id,
                    owner_name=owner.label,
                    place=origin,
                    people=[Reviewed(a.person.key, a.person.label, a.role) for a in account.access],
                    now=now,
                    due_on=calendar.add_working_days(
                        calendar.today(now), settings.access_review_days
                    ),
                    next_reminder_at=calendar.next_working_morning(now),
                )
                if review is not None:
                    opened += 1
                    await self.send(review)
        return opened

    async def send(self, review: Review, *, reminder: bool = False) -> None:
        msg = render(review, await self.store.decisions(review.id), reminder=reminder)
        await tell(
            self.services, review.tenant, review.owner_id, review.owner_name, msg, review.place
        )

    async def step(self) -> float:
        now = self.now()
        if not calendar.working_hours(now):
            return LONGEST_WAIT  # late reminders wait for working hours too
        await self.open_due()
        for review in await self.store.reminders_due(now):
            if await self.store.claim_reminder(review, calendar.next_working_morning(now)):
                try:
                    await self.send(review, reminder=True)
                except Exception:  # noqa: BLE001 - one review's failure must not stop the rest
                    log.exception("an access review reminder failed")
        return LONGEST_WAIT

    # --- answering ---------------------------------------------------------------------

    async def answer(self, turn: Turn) -> None:
        """Keep or Remove for one person: one decision per person, whoever clicks twice."""
        decision = "keep" if turn.incoming.action_id.split("#")[0] == KEEP else "remove"
        ids = value_ints(turn.incoming.value, 2)
        review = await self.store.get(tenants_of(turn.place), ids[0]) if ids else None
        account = await self.register.get(review.tenant, review.account_id) if review else None
        actor = turn.actor
        may = account is not None and (
            self.services.is_admin(actor)
            or (account.is_owner(actor.user_id) and review is not None
                and review.tenant.partition(":")[0] == actor.platform)
        )  # fmt: skip
        if ids is None or review is None or not may or ids[1] >= len(review.people):
            await turn.reply(Message(NOT_YOURS, (Section(NOT_YOURS),), private=True))
            return
        person = review.people[ids[1]]
        now = self.now()
        made = await self.store.decide(
            review, person, decision, by=actor.key, by_name=actor.name, now=now
        )
        decided = await self.store.decisions(review.id)
        if made is None:
            first = decided[person.key]
            text = (
                f"{first.person_name} was already marked {first.decision} by"
                f" {first.decided_by_name} ({london(first.decided_at)}). Nothing changed."
            )
            await turn.reply(Message(text, (Section(text),), private=True))
        else:
            if decision == "remove":
                await self.register.remove_access(review.tenant, review.account_id, person.key)
            await audit_trail.changed(
                turn, f"access review: {decision}", f"account #{review.account_id}"
            )
        if len(decided) == len(review.people):
            if await self.store.finish(review.id, by=actor.key, by_name=actor.name, now=now):
                await self.register.mark_reviewed(
                    review.tenant, review.account_id, calendar.today(now)
                )
        fresh = await self.store.get(review.tenant, review.id)
        assert fresh is not None
        await turn.update_original(render(fresh, decided))

    # --- for admins --------------------------------------------------------------------

    async def summary(self, turn: Turn) -> Message:
        today = calendar.today(self.now())
        open_ = await self.store.open_reviews(tenants_of(turn.place))
        tasks = await self.store.waiting_tasks(tenants_of(turn.place))
        leavers = [
            f"{one_line(t.leaver_name, 100)} from {one_line(t.account_title, 100)}: waiting for"
            f" {one_line(t.owner_name, 100)} since {t.opened_at:%-d %b %Y}"
            for t in tasks
        ]
        if not open_:
            text = "No access reviews are waiting."
            if leavers:
                text += f" Leavers' removals not yet confirmed: {len(leavers)}."
            lines = [text, *leavers]
            return Message("\n".join(lines), _listed(lines), private=True)
        lines = []
        for r in open_:
            state = "OVERDUE" if r.overdue(today) else "due"
            lines.append(
                f"{one_line(r.account_title, 100)}: {state} by {r.due_on:%-d %b %Y}, owner"
                f" {one_line(r.owner_name, 100)}"
            )
        overdue = sum(r.overdue(today) for r in open_)
        head = (
            f"{len(open_)} access review{'s' if len(open_) != 1 else ''} open, {overdue} overdue."
        )
        if leavers:
            lines += [f"Leavers' removals not yet confirmed: {len(leavers)}.", *leavers]
        return Message(
            head + "\n" + "\n".join(lines),
            (Heading("Access reviews"), Section(head), *_listed(lines)),
            private=True,
        )
