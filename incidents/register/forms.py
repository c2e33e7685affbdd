"""Adding and editing an account in chat: one form, the same on every platform (typed
fields in a Slack message, an Adaptive Card form in Teams, text boxes in the web chat;
see ``TextInput`` in docs/FRAMEWORK.md), and reading what was typed back into
:class:`Details`.

A new account starts with a platform drop-down (the fixed list), then the form. The
owner and the people with access are typed as ``Name <email> (role)``; people in the
workspace are better added with the pickers on the account's card, which keep their chat
id (what leavers, reviews and "only the owner may change it" match on).
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.actions import button_value
from bot.core.model import Actions, Button, Choice, Context, Message, Section, Select, TextInput
from incidents.register import fields
from incidents.register.model import TWO_FACTOR_NAMES, VERIFICATION_NAMES, Details, Person
from incidents.register.platforms import PLATFORMS, platform_name

NS = "register"
PICK_PLATFORM, SAVE, CANCEL = f"{NS}:platform", f"{NS}:save", f"{NS}:cancel"
F_HANDLE, F_URL, F_TEAM, F_OWNER, F_PEOPLE = "handle", "url", "team", "owner", "people"
F_2FA, F_EMAIL, F_PHONE, F_HOLDER, F_SHARED = "2fa", "rec_email", "rec_phone", "holder", "shared"
F_VERIFIED, F_TOOLS, F_REVIEWED = "verified", "tools", "reviewed"
NEW = "new"


def platform_menu() -> Message:
    return Message(
        "Add an account to the register: which platform is it on?",
        (
            Section("Add an account to the register. Which platform is it on?"),
            Select(PICK_PLATFORM, "Choose a platform", tuple(Choice(n, c) for c, n in PLATFORMS)),
        ),
        private=True,
    )


def form(platform: str, details: Details | None, account_id: int | None, me: Person) -> Message:
    """The form, filled in with ``details`` when editing (or the caller as the owner of a
    new account). The save button's value says which account, or ``new|<platform>``."""
    d = details or Details(platform=platform, handle="", owner=me)
    owner = shown(d.owner) if d.owner else ""
    what = f"account #{account_id}" if account_id else "a new account"
    value = button_value(account_id) if account_id else button_value(NEW, platform)
    two_fa = ", ".join(n.replace(" (weak)", "") for n in TWO_FACTOR_NAMES.values())
    return Message(
        f"{platform_name(platform)}: {what}",
        (
            Section(f"{platform_name(platform)}: {what}. Fill in what you know; save any time."),
            TextInput(F_HANDLE, "Handle or page name", "@DeptPress", fields.MAX_HANDLE,
                      initial=d.handle),
            TextInput(F_URL, "Link to the account", "https://…", fields.MAX_URL, initial=d.url),
            TextInput(F_TEAM, "Owning team", "Press office", fields.MAX_TEXT, initial=d.team),
            TextInput(F_OWNER, "Business owner: Name <email>", "", 300, initial=owner),
            TextInput(F_PEOPLE, "People with access: Name <email> (role), one a line",
                      "", 4000, multiline=True, initial="\n".join(
                          shown(a.person, a.role) for a in d.access)),
            TextInput(F_2FA, f"Two-factor method ({two_fa})", "passkey", 40,
                      initial=_2fa_words(d.two_factor)),
            TextInput(F_EMAIL, "Recovery email", "", fields.MAX_TEXT, initial=d.recovery_email),
            TextInput(F_PHONE, "Recovery phone", "", 40, initial=d.recovery_phone),
            TextInput(F_HOLDER, "Who controls the recovery email and phone", "",
                      fields.MAX_TEXT, initial=d.recovery_holder),
            TextInput(F_SHARED, "Is that a shared team mailbox? (yes or no)", "", 5,
                      initial="yes" if d.recovery_shared else "no"),
            TextInput(F_VERIFIED, "Verification (verified, applied for, not verified)", "", 20,
                      initial=VERIFICATION_NAMES.get(d.verification, "").lower()),
            TextInput(F_TOOLS, "Connected tools and agencies, one a line", "", 2000,
                      multiline=True, initial="\n".join(d.tools)),
            TextInput(F_REVIEWED, "Last reviewed (YYYY-MM-DD)", "", 10,
                      initial=d.last_reviewed.isoformat() if d.last_reviewed else ""),
            Actions((Button("Save", SAVE, value, "primary"), Button("Cancel", CANCEL, value))),
            Context(("SMS is flagged as weak: a stolen phone number is enough to get in.",)),
        ),
        private=True,
    )  # fmt: skip


def shown(person: Person, role: str = "") -> str:
    """A person as the form shows them: name and email, never a chat id (people see
    names); :func:`read` gives the id back to a person typed back unchanged."""
    return fields.write_person(replace(person, user_id=""), role)


def _2fa_words(code: str) -> str:
    return "" if code == "unknown" else TWO_FACTOR_NAMES.get(code, "").replace(" (weak)", "")


def read(form: dict[str, str], platform: str, before: Details | None, me: Person) -> Details:
    """What was typed, as details; raises ``fields.Bad`` for the first field that is
    wrong. With no owner typed, a new account is the caller's and an edited one keeps
    its owner. People known before (and
    the caller) keep their chat ids when they are typed back as the form showed them."""
    owner = None
    if form.get(F_OWNER, "").strip():
        owner, _ = fields.person(form[F_OWNER], "the business owner")
    else:  # left empty: a new account is the caller's; an edited one keeps its owner
        owner = before.owner if before is not None else me
    access = fields.people(form.get(F_PEOPLE))
    known = [me]
    if before is not None:
        known += [a.person for a in before.access] + ([before.owner] if before.owner else [])
    owner = _keep_id(owner, known)
    access = tuple(replace(a, person=_keep_id(a.person, known) or a.person) for a in access)
    return Details(
        platform=platform,
        handle=fields.handle(form.get(F_HANDLE)),
        url=fields.url(form.get(F_URL)),
        team=fields.text(form.get(F_TEAM), "the owning team"),
        owner=owner,
        access=access,
        two_factor=fields.two_factor(form.get(F_2FA)),
        recovery_email=fields.text(form.get(F_EMAIL), "the recovery email"),
        recovery_phone=fields.text(form.get(F_PHONE), "the recovery phone", 40),
        recovery_holder=fields.text(form.get(F_HOLDER), "who controls recovery"),
        recovery_shared=fields.yes_no(form.get(F_SHARED), "Shared team mailbox"),
        verification=fields.verification(form.get(F_VERIFIED)),
        tools=fields.tools(form.get(F_TOOLS)),
        last_reviewed=fields.when(form.get(F_REVIEWED)),
    )


def _keep_id(person: Person | None, known: list[Person]) -> Person | None:
    """A person typed back as the form showed them keeps the chat id they had."""
    if person is None or person.user_id:
        return person
    for was in known:
        if was.user_id and was.name == person.name and was.email == person.email:
            return replace(person, user_id=was.user_id)
    return person
