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
from datetime import date

from bot.core.actions import button_value
from bot.core.model import Actions, Button, Choice, Context, Message, Section, Select, TextInput
from incidents.register import fields
from incidents.register.model import (
    TWO_FACTOR_NAMES,
    VERIFICATION_NAMES,
    Access,
    Details,
    Person,
)
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
    new account). The save button's value says which account, or ``new|<platform>``.
    Where the platform has dialogs (a Slack modal) it opens as one."""
    return typed_form(platform, filled(details or Details(platform=platform, handle="", owner=me)),
                      account_id)  # fmt: skip


def filled(d: Details) -> dict[str, str]:
    """The form's boxes for ``d``, as people type them."""
    return {
        F_HANDLE: d.handle, F_URL: d.url, F_TEAM: d.team,
        F_OWNER: shown(d.owner) if d.owner else "",
        F_PEOPLE: "\n".join(shown(a.person, a.role) for a in d.access),
        F_2FA: _2fa_words(d.two_factor), F_EMAIL: d.recovery_email, F_PHONE: d.recovery_phone,
        F_HOLDER: d.recovery_holder, F_SHARED: "yes" if d.recovery_shared else "no",
        F_VERIFIED: VERIFICATION_NAMES.get(d.verification, "").lower(),
        F_TOOLS: "\n".join(d.tools),
        F_REVIEWED: d.last_reviewed.isoformat() if d.last_reviewed else "",
    }  # fmt: skip


def typed_form(
    platform: str, typed: dict[str, str], account_id: int | None, problem: str = ""
) -> Message:
    """The form with ``typed`` in its boxes; ``problem`` (what to correct) heads it when
    it comes back after a save that failed."""
    i = typed.get
    what = f"account #{account_id}" if account_id else "a new account"
    value = button_value(account_id) if account_id else button_value(NEW, platform)
    two_fa = ", ".join(n.replace(" (weak)", "") for n in TWO_FACTOR_NAMES.values())
    intro = f"{platform_name(platform)}: {what}. Fill in what you know; save any time."
    if problem:
        intro = f"Nothing was saved: {problem}. Change it and press Save again."
    return Message(
        f"{platform_name(platform)}: {what}",
        (
            Section(intro),
            TextInput(F_HANDLE, "Handle or page name", "@DeptPress", fields.MAX_HANDLE,
                      initial=i(F_HANDLE, "")),
            TextInput(F_URL, "Link to the account", "https://…", fields.MAX_URL,
                      initial=i(F_URL, "")),
            TextInput(F_TEAM, "Owning team", "Press office", fields.MAX_TEXT,
                      initial=i(F_TEAM, "")),
            TextInput(F_OWNER, "Business owner: Name <email>", "", 300, initial=i(F_OWNER, "")),
            TextInput(F_PEOPLE, "People with access: Name <email> (role), one a line",
                      "", 4000, multiline=True, initial=i(F_PEOPLE, "")),
            TextInput(F_2FA, f"Two-factor method ({two_fa})", "passkey", 40,
                      initial=i(F_2FA, "")),
            TextInput(F_EMAIL, "Recovery email", "", fields.MAX_TEXT, initial=i(F_EMAIL, "")),
            TextInput(F_PHONE, "Recovery phone", "", 40, initial=i(F_PHONE, "")),
            TextInput(F_HOLDER, "Who controls the recovery email and phone", "",
                      fields.MAX_TEXT, initial=i(F_HOLDER, "")),
            TextInput(F_SHARED, "Is that a shared team mailbox? (yes or no)", "", 5,
                      initial=i(F_SHARED, "")),
            TextInput(F_VERIFIED, "Verification (verified, applied for, not verified)", "", 20,
                      initial=i(F_VERIFIED, "")),
            TextInput(F_TOOLS, "Connected tools and agencies, one a line", "", 2000,
                      multiline=True, initial=i(F_TOOLS, "")),
            TextInput(F_REVIEWED, "Last reviewed (YYYY-MM-DD)", "", 10,
                      initial=i(F_REVIEWED, "")),
            Actions((Button("Save", SAVE, value, "primary"), Button("Cancel", CANCEL, value))),
            Context(("SMS is flagged as weak: a stolen phone number is enough to get in.",)),
        ),
        private=True,
        dialog=f"Edit account #{account_id}" if account_id else "Add an account",
    )  # fmt: skip


def shown(person: Person, role: str = "") -> str:
    """A person as the form shows them: name and email, never a chat id (people see
    names); :func:`read` gives the id back to a person typed back unchanged."""
    return fields.write_person(replace(person, user_id=""), role)


def _2fa_words(code: str) -> str:
    return "" if code == "unknown" else TWO_FACTOR_NAMES.get(code, "").replace(" (weak)", "")


class Wrong(fields.Bad):
    """A typed field that can't be read: ``name`` says which box, to correct it there."""

    def __init__(self, name: str, why: str):
        super().__init__(why)
        self.name = name


def _at(name: str, read_one, *args):
    """``read_one(*args)``, naming the box it came from when it can't be read."""
    try:
        return read_one(*args)
    except fields.Bad as bad:
        raise Wrong(name, str(bad)) from None


def read(
    form: dict[str, str],
    platform: str,
    before: Details | None,
    me: Person,
    latest: date | None = None,
) -> Details:
    """What was typed, as details; raises :class:`Wrong` (a ``fields.Bad``) naming the
    first box that is wrong. With no owner typed, a new account is the caller's and an
    edited one keeps its owner. People known before (and the caller) keep their chat ids
    when they are typed back as the form showed them."""
    known = [me]
    if before is not None:
        known += [a.person for a in before.access] + ([before.owner] if before.owner else [])
    owner = None
    if form.get(F_OWNER, "").strip():
        owner, role = _at(F_OWNER, fields.person, form[F_OWNER], "the business owner")
        owner, _ = _known_as(owner, role, known)
    else:  # left empty: a new account is the caller's; an edited one keeps its owner
        owner = before.owner if before is not None else me
    access = tuple(
        Access(*_known_as(a.person, a.role, known))
        for a in _at(F_PEOPLE, fields.people, form.get(F_PEOPLE))
    )
    g = form.get
    return Details(
        platform=platform,
        handle=_at(F_HANDLE, fields.handle, g(F_HANDLE)),
        url=_at(F_URL, fields.url, g(F_URL)),
        team=_at(F_TEAM, fields.text, g(F_TEAM), "the owning team"),
        owner=owner,
        access=access,
        two_factor=_at(F_2FA, fields.two_factor, g(F_2FA)),
        recovery_email=_at(F_EMAIL, fields.text, g(F_EMAIL), "the recovery email"),
        recovery_phone=_at(F_PHONE, fields.text, g(F_PHONE), "the recovery phone", 40),
        recovery_holder=_at(F_HOLDER, fields.text, g(F_HOLDER), "who controls recovery"),
        recovery_shared=_at(F_SHARED, fields.yes_no, g(F_SHARED), "Shared team mailbox"),
        verification=_at(F_VERIFIED, fields.verification, g(F_VERIFIED)),
        tools=_at(F_TOOLS, fields.tools, g(F_TOOLS)),
        last_reviewed=_at(F_REVIEWED, fields.when, g(F_REVIEWED), "the last review date", latest),
    )


def _keep_id(person: Person, known: list[Person]) -> Person:
    """A person typed back as the form showed them keeps the chat id they had."""
    if person.user_id:
        return person
    for was in known:
        if was.user_id and was.name == person.name and was.email == person.email:
            return replace(person, user_id=was.user_id)
    return person


def _known_as(person: Person, role: str, known: list[Person]) -> tuple[Person, str]:
    """``person`` with ``role`` as typed, keeping a known person's chat id. A name that
    ends in brackets ("Smith, Ann (DCMS)", as Teams directories write them) reads as a
    name and a role, so it is first matched whole: the form shows such a person that way."""
    if role and not person.user_id:
        whole = _keep_id(replace(person, name=f"{person.name} ({role})"), known)
        if whole.user_id:
            return whole, ""
    return _keep_id(person, known), role
