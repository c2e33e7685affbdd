"""The ``register`` command and its buttons: list, show, add, edit, export and import.

Who may do what (issue 19): anyone in a workspace sees its list; admins, the account's
owner and the people with access see an account's recovery contacts and access list;
only admins and the owner change an account; anyone may add one (as its owner, unless
they name another); only admins import or export the whole register (``csv_flow``). An account is
found only among the caller's tenants, and a missing number and another tenant's number
get the same words.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.core.actions import value_parts, verb
from bot.core.hints import typed
from bot.core.model import PERSON_FIELD, Message, Place
from bot.core.team_platforms import TeamPlatforms
from bot.core.tenancy import tenant_of, tenants_of
from incidents.register import audit_trail, fields, forms, views
from incidents.register.csv_flow import CsvFlow, note
from incidents.register.model import Access, Account, Details, Person
from incidents.register.platforms import PLATFORM_NAMES
from incidents.register.store import DuplicateAccount, RegisterStore

if TYPE_CHECKING:
    from bot.core import Services, Turn

NOT_FOUND = "There is no account {n} in this workspace's register."
_note = note


class Register(TeamPlatforms):
    def __init__(self, services: Services):
        self.services = services
        self.store = RegisterStore(services.db)
        self.csv = CsvFlow(services, self.store)

    async def platforms_for(self, place: Place, user_id: str) -> frozenset[str]:
        """The platforms of the accounts of the person's teams (``/tip`` puts tips for
        them first)."""
        tenants = tenants_of(place)
        teams = {t.casefold() for t in await self.store.teams_of(tenants, user_id)}
        accounts = await self.store.accounts(tenants)
        return frozenset(
            a.platform for a in accounts if a.team.casefold() in teams or a.reaches(user_id)
        )

    # --- who may do what --------------------------------------------------------------

    def is_admin(self, turn: Turn) -> bool:
        return self.services.is_admin(turn.actor)

    def may_change(self, turn: Turn, account: Account) -> bool:
        return self.is_admin(turn) or account.is_owner(turn.actor.user_id)

    def may_see(self, turn: Turn, account: Account) -> bool:
        return self.is_admin(turn) or account.reaches(turn.actor.user_id)

    def me(self, turn: Turn) -> Person:
        return Person(turn.actor.name or "me", turn.actor.user_id)

    def hint(self, turn: Turn, words: str) -> str:
        return typed(turn.place, words, slack_command="secbot")

    async def account(self, turn: Turn, text: str) -> Account | None:
        """The account numbered ``text`` in the caller's tenants, else a private note
        that says the same for a missing number and another tenant's."""
        number = text.strip().lstrip("#")
        found = None
        if number.isdigit() and len(number) < 10:
            found = await self.store.get(tenants_of(turn.place), int(number))
        if found is None:
            await turn.reply(_note(NOT_FOUND.format(n=f"#{number[:12]}" if number else "")))
        return found

    async def card(self, turn: Turn, account: Account) -> Message:
        today = self.services.clock.now().date()
        return views.card(
            account, today, may_change=self.may_change(turn, account),
            full=self.may_see(turn, account),
        )  # fmt: skip

    # --- typed commands ---------------------------------------------------------------

    async def command(self, turn: Turn) -> None:
        words = turn.args.split(maxsplit=1)
        sub = words[0].lower() if words else ""
        rest = words[1] if len(words) > 1 else ""
        if not sub or sub == "list":
            await self.show_list(turn)
        elif sub == "add":
            await turn.reply(forms.platform_menu())
        elif sub in ("show", "edit", "remove") and not rest.strip():
            example = self.hint(turn, f"register {sub} <number>")
            listed = self.hint(turn, "register")
            await turn.reply(_note(f"Which account? Type {example}: {listed} lists them."))
        elif sub in ("show", "edit", "remove") or sub.lstrip("#").isdigit():
            target = rest if sub in ("show", "edit", "remove") else sub
            account = await self.account(turn, target)
            if account is None:
                return
            if sub == "edit":
                await self.open_form(turn, account)
            elif sub == "remove":
                await self.remove(turn, account)
            else:
                await turn.reply(await self.card(turn, account))
        elif sub == "export":
            await self.csv.export(turn)
        elif sub == "import":
            await self.csv.explain_import(turn)
        else:
            usage = self.hint(turn, "register [add | show <number> | edit <number> | "
                              "remove <number> | export | import]")  # fmt: skip
            await turn.reply(_note(f"I didn't understand that. Type {usage}."))

    async def show_list(self, turn: Turn) -> None:
        tenants = tenants_of(turn.place)
        accounts = await self.store.accounts(tenants)
        mine = {a.id for a in accounts if a.reaches(turn.actor.user_id)}
        teams = {a.team for a in accounts if a.id in mine}
        mine |= {a.id for a in accounts if a.team and a.team in teams}
        hint = f"Type {self.hint(turn, 'register <number>')} to see one account."
        await turn.reply(views.listing(accounts, mine, self.services.clock.now().date(), hint))

    async def open_form(self, turn: Turn, account: Account) -> None:
        if not self.may_change(turn, account):
            await turn.reply(_note(self.owner_only(account)))
            return
        me = self.me(turn)
        await turn.reply(forms.form(account.platform, account.details, account.id, me))

    def owner_only(self, account: Account) -> str:
        return (
            f"Only secbot admins and the business owner of {account.title} can change it. "
            "Please ask one of them."
        )

    async def remove(self, turn: Turn, account: Account) -> None:
        if not self.may_change(turn, account):
            await turn.reply(_note(self.owner_only(account)))
            return
        if await self.store.remove(tenants_of(turn.place), account.id):
            await audit_trail.changed(turn, "removed an account from the register",
                                      f"account #{account.id} ({account.title})")  # fmt: skip
        await turn.reply(_note(f"{account.title} (#{account.id}) is no longer in the register."))

    # --- buttons and pickers ----------------------------------------------------------

    async def action(self, turn: Turn) -> None:
        kind, value = verb(turn.incoming.action_id), turn.incoming.value
        parts = value_parts(value) or ("",)
        if kind == "add":
            await turn.reply(forms.platform_menu())
        elif kind == "platform" and value in PLATFORM_NAMES:
            me = self.me(turn)
            await turn.reply(forms.form(value, None, None, me))
        elif kind == "save":
            await self.save(turn, parts)
        elif kind == "cancel":
            await turn.update_original(_note("Nothing was saved."))
        elif kind in ("show", "edit", "owner", "grant"):
            account = await self.account(turn, parts[0])
            if account is None:
                return
            if kind == "show":
                await turn.reply(await self.card(turn, account))
            elif kind == "edit":
                await self.open_form(turn, account)
            else:
                await self.picked(turn, account, kind)
        elif kind in ("apply", "discard"):
            await self.csv.finish_import(turn, kind, parts[0])
        else:
            await turn.reply(_note("That button is no longer active."))

    async def save(self, turn: Turn, parts: tuple[str, ...]) -> None:
        before = None
        if parts[0] == forms.NEW:
            platform = parts[1] if len(parts) > 1 else ""
            if platform not in PLATFORM_NAMES:
                await turn.reply(_note("That button is no longer active."))
                return
        else:
            before = await self.account(turn, parts[0])
            if before is None:
                return
            if not self.may_change(turn, before):
                await turn.reply(_note(self.owner_only(before)))
                return
            platform = before.platform
        try:
            details = forms.read(
                turn.incoming.form, platform, before.details if before else None, self.me(turn),
                fields.latest_review(self.services.clock.now()),
            )  # fmt: skip
        except fields.Bad as bad:
            await self.correct(turn, platform, before, bad)
            return
        await self.write(turn, before, details)

    async def correct(
        self, turn: Turn, platform: str, before: Account | None, bad: fields.Bad
    ) -> None:
        """Say what to correct. A form still in the conversation just needs the words; a
        submitted dialog has closed (unless the platform shows the correction under the
        field, which ``field_errors`` asks for), so the form comes again as typed."""
        name = bad.name if isinstance(bad, forms.Wrong) else forms.F_HANDLE
        wrong = ((name, f"{str(bad)[:1].upper()}{str(bad)[1:]}."),)
        if turn.incoming.dialog:
            again = forms.typed_form(
                platform, turn.incoming.form, before.id if before else None, str(bad)
            )
            await turn.reply(replace(again, field_errors=wrong))
            return
        words = f"Nothing was saved: {bad}. Change it and press Save again."
        await turn.reply(replace(_note(words), field_errors=wrong))

    async def write(self, turn: Turn, before: Account | None, details: Details) -> None:
        now = self.services.clock.now()
        saved: Account | None
        try:
            if before is None:
                saved = await self.store.add(tenant_of(turn.place), details, by=turn.actor,
                                             now=now)  # fmt: skip
                action = "added an account to the register"
            else:
                saved = await self.store.update(tenants_of(turn.place), before.id, details,
                                                by=turn.actor, now=now)  # fmt: skip
                action = "changed an account in the register"
        except DuplicateAccount as clash:
            if turn.incoming.dialog:  # in the form, under the handle
                why = f"{details.title} is in the register already (#{clash.existing})"
                await self.correct(turn, details.platform, before, forms.Wrong(forms.F_HANDLE, why))
                return
            await turn.reply(_note(
                f"{details.title} is in the register already (#{clash.existing}). "
                f"Type {self.hint(turn, f'register edit {clash.existing}')} to change it."
            ))  # fmt: skip
            return
        if saved is None:
            await turn.reply(_note(NOT_FOUND.format(n=f"#{before.id if before else ''}")))
            return
        await audit_trail.changed(turn, action, f"account #{saved.id} ({saved.title})")
        await turn.update_original(await self.card(turn, saved))

    async def picked(self, turn: Turn, account: Account, kind: str) -> None:
        """A person picked as the business owner, or added to the access list."""
        if not self.may_change(turn, account):
            await turn.reply(_note(self.owner_only(account)))
            return
        user_id = turn.incoming.form.get(PERSON_FIELD, "").strip()
        if not user_id:
            await turn.reply(_note("Pick a person first."))
            return
        transport = self.services.transports.get(turn.place.platform)
        found = None
        if transport is not None:
            found = await transport.lookup(turn.place.workspace, user_id, where=turn.place)
        person = Person(found.name if found and found.name else "someone", user_id)
        d = account.details
        if kind == "owner":
            details = replace(d, owner=person)
            words = f"{person.name} is now the business owner of {account.title}."
        elif any(a.person.user_id == user_id for a in d.access):
            await turn.reply(_note(f"{person.name} has access to {account.title} already."))
            return
        else:
            details = replace(d, access=(*d.access, Access(person, "")))
            words = f"{person.name} now has access to {account.title}."
        await self.write(turn, account, details)
        await turn.reply(_note(words))
