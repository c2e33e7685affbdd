"""The accounts register drives ``/compromised`` (issue 19 item 2).

- ``/compromised`` with no account named offers the caller's registered accounts first
  (those they own or can get into, then their teams' accounts, then the rest), as
  buttons; "Another account" starts without one.
- A registered account, picked or named, pre-fills the incident: its platform and
  handle, its owning team (routing rules can match on ``owning_team``), and a timeline
  entry with the business owner, the recovery email and phone and who controls them,
  and its 2FA method, which is what the first recovery steps need.
- ``/compromised drill`` with no account named picks one of the caller's team's
  registered accounts (any of the workspace's when they have none).

The register is read through its store, only among the caller's tenants.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from bot.core.actions import button_value
from bot.core.model import Actions, Button, Message, Section
from bot.core.tenancy import tenants_of
from incidents.desk.job import DeskJob
from incidents.register.model import TWO_FACTOR_NAMES, Account
from incidents.register.platforms import triage_platform
from incidents.register.store import RegisterStore

if TYPE_CHECKING:
    from bot.core import Turn
    from incidents.desk.core import IncidentDesk
    from incidents.store.model import Incident

PICK = "incident:pick"
ANOTHER = "another"
MAX_OFFERED = 5


class RegisteredAccounts(DeskJob):
    def __init__(self, desk: IncidentDesk):
        super().__init__(desk)
        self.register = RegisterStore(desk.services.db)

    async def ordered(self, turn: Turn, platform: str | None = None) -> list[Account]:
        """The workspace's accounts, the caller's own first, then their teams'."""
        accounts = await self.register.accounts(tenants_of(turn.place))
        if platform:
            accounts = [a for a in accounts if triage_platform(a.platform) == platform]
        me = turn.actor.user_id
        teams = {a.team.casefold() for a in accounts if a.reaches(me) and a.team}

        def rank(a: Account) -> int:
            return 0 if a.reaches(me) else 1 if a.team.casefold() in teams else 2

        return sorted(accounts, key=rank)

    async def resolve(self, turn: Turn, platform: str | None, handle: str | None) -> Account | None:
        """The registered account a report names, when exactly one matches."""
        if not handle:
            return None
        found = await self.register.by_handle(tenants_of(turn.place), handle)
        if platform:
            found = [a for a in found if triage_platform(a.platform) == platform]
        return found[0] if len(found) == 1 else None

    async def get(self, turn: Turn, account_id: int) -> Account | None:
        return await self.register.get(tenants_of(turn.place), account_id)

    async def offer(self, turn: Turn, platform: str | None) -> bool:
        """Ask which registered account it is; False when the register has none here."""
        accounts = (await self.ordered(turn, platform))[:MAX_OFFERED]
        if not accounts:
            return False
        words = "Which account is it? Your team's registered accounts are first."
        picks = tuple(
            Button(a.title[:60], PICK, button_value(a.id), accessibility_label=f"Report {a.title}")
            for a in accounts
        )
        # "Another account" keeps the platform the reporter named, so triage need not
        # ask it again.
        value = button_value(ANOTHER, platform) if platform else ANOTHER
        another = Button("Another account", PICK, value)
        await turn.reply(Message(words, (Section(words), Actions((*picks, another)))))
        return True

    async def for_drill(self, turn: Turn) -> Account | None:
        """A registered account to practise on: one of the caller's teams' if any."""
        accounts = await self.ordered(turn)
        me = turn.actor.user_id
        teams = {a.team.casefold() for a in accounts if a.reaches(me) and a.team}
        mine = [a for a in accounts if a.reaches(me) or (a.team and a.team.casefold() in teams)]
        pool = mine or accounts
        return random.choice(pool) if pool else None  # noqa: S311 - not for security

    async def prefill(self, turn: Turn, inc: Incident, account: Account) -> None:
        """What the register knows that recovery needs, on the timeline."""
        d = account.details
        owner = d.owner.label if d.owner else "none recorded"
        email = d.recovery_email or "not recorded"
        if d.personal_recovery:
            email += " (a personal address)"
        holder = d.recovery_holder or "not recorded"
        if d.recovery_shared:
            holder += " (shared team mailbox)"
        text = (
            f"From the accounts register (#{account.id}): {account.title}, owning team "
            f"{d.team or 'none recorded'}, business owner {owner}. Recovery email {email}; "
            f"recovery phone {d.recovery_phone or 'not recorded'}; controlled by {holder}. "
            f"2FA: {TWO_FACTOR_NAMES.get(d.two_factor, d.two_factor)}. "
            f"People with access: {len(d.access)}."
        )
        await self.desk.event(inc, turn.actor, "register", text)
