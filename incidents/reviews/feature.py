"""Plugs access reviews, leavers and the trained-access check into the app:
``/secbot access [review | check]`` and ``/secbot leaver @person`` (admins), the
``access:`` and ``leaver:`` buttons (owners and admins), and the worker that opens
reviews each period and reminds owners on working days."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.hints import typed
from bot.core.inert import one_line
from bot.core.model import Context, Heading, Message, Section
from bot.core.tenancy import tenant_of, tenants_of
from bot.workers import Worker
from incidents.register.store import RegisterStore
from incidents.reviews.leavers import Leavers
from incidents.reviews.reviews import AccessReviews
from incidents.reviews.store import ReviewStore
from incidents.reviews.trained import untrained_with_access

if TYPE_CHECKING:
    from bot.core import Services, Turn
    from bot.core.features import FeatureHost
    from incidents.register.model import Account

SHOWN = 40


def _say(text: str) -> Message:
    return Message(text, (Section(text),), private=True)


def opened_text(opened: int, accounts: list[Account], add_hint: str) -> str:
    """What ``access review`` did, and which accounts got no review because secbot can't
    message their owner (none named, or named by email alone): otherwise "every account
    has its review" would hide that those are never reviewed."""
    if not accounts:
        return f"No accounts are registered yet, so there is nothing to review. Type {add_hint}."
    said = (
        f"Opened {opened} access review{'s' if opened != 1 else ''}: each owner has"
        " a message with Keep and Remove for everyone with access."
        if opened
        else "Every account with an owner has its review for this period already."
    )
    unreachable = [a.title for a in accounts if a.access and not (a.owner and a.owner.user_id)]
    if unreachable:
        shown = ", ".join(unreachable[:5]) + (", …" if len(unreachable) > 5 else "")
        said += (
            f" No review was opened for {len(unreachable)} account"
            f"{'s' if len(unreachable) != 1 else ''} whose owner I can't message (none is"
            f" named, or only by email): {shown}. Choose the owner on each account's card."
        )
    return said


class AccessFeature:
    def __init__(self, services: Services):
        self.services = services
        register = RegisterStore(services.db)
        self.register = register
        self.store = ReviewStore(services.db)
        self.reviews = AccessReviews(services, register, self.store)
        self.leavers = Leavers(services, register, self.store)

    async def command(self, turn: Turn) -> None:
        verb = turn.args.strip().lower()
        if verb == "":
            await turn.reply(await self.reviews.summary(turn))
        elif verb == "review":
            tenant = tenant_of(turn.place)
            opened = await self.reviews.open_due([tenant], turn.place.to_json(), asked=True)
            add = typed(turn.place, "register add", slack_command="secbot")
            await turn.reply(_say(opened_text(opened, await self.register.accounts(tenant), add)))
        elif verb == "check":
            await self.check(turn)
        else:
            hint = typed(turn.place, "access", slack_command="secbot")
            await turn.reply(
                _say(
                    f"I don't know “{one_line(verb, 20)}” here. Type {hint} for the reviews"
                    f" waiting, {hint} review to open this period's, or {hint} check."
                )
            )

    async def check(self, turn: Turn) -> None:
        result = await untrained_with_access(self.services, self.register, tenants_of(turn.place))
        if not result.training_on:
            await turn.reply(_say("Assigned training is not part of this secbot."))
            return
        if not result.people:
            add = typed(turn.place, "register add", slack_command="secbot")
            await turn.reply(
                _say(f"Nobody is named with access to a registered account yet. Type {add}.")
            )
            return
        if not result.untrained:
            text = (
                f"All {result.people} people with access to a registered account have passed"
                " the exam in the last twelve months."
            )
            await turn.reply(
                Message(text, (Heading("Trained access"), Section(text)), private=True)
            )
            return
        lines = [
            f"{u.name}: {', '.join(u.accounts[:5])}"
            + ("" if u.checkable else " (no chat id in the register, so can't be checked)")
            for u in result.untrained
        ]
        head = (
            f"{len(result.untrained)} of {result.people} people with access haven't passed the"
            " exam in the last twelve months:"
        )
        more = len(lines) - SHOWN
        await turn.reply(
            Message(
                head + "\n" + "\n".join(lines),
                (
                    Heading("Trained access"),
                    Section(head),
                    *(Section(x) for x in lines[:SHOWN]),
                    *((Context((f"…and {more} more.",)),) if more > 0 else ()),
                ),
                private=True,
            )
        )


def setup(host: FeatureHost) -> None:
    feature = AccessFeature(host.services)
    host.services.provide(feature)
    host.registry.add_command(
        "access",
        "Admins: access reviews of registered accounts, and who with access is untrained",
        feature.command,
        usage="access [review | check]",
        hidden=True,
        admin_only=True,
        refusal="Only secbot admins can see and start access reviews.",
    )
    host.registry.add_command(
        "leaver",
        "Admins: someone is leaving: remove them from every registered account",
        feature.leavers.command,
        usage="leaver @person",
        hidden=True,
        admin_only=True,
        refusal="Only secbot admins can start a leaver's removals.",
    )
    host.registry.add_action("access", feature.reviews.answer)
    host.registry.add_action("leaver", feature.leavers.action)
    host.add_worker(
        Worker("access reviews", feature.reviews.step, every=300, clock=host.services.clock)
    )
