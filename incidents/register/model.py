"""What the register knows about one official account, as plain frozen values.

:class:`Details` is what people edit (in a chat form or a CSV row); :class:`Account` is a
kept one: its id, its tenant (the workspace or tenant that owns it: nobody elsewhere sees
it) and when and by whom it was last changed. People are :class:`Person`: a name, and
where known their chat id on the tenant's platform (what leavers, reviews and
permissions match on) and an email address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from incidents.register.platforms import platform_name

# Two-factor methods, strongest first. SMS can be stolen with the phone number (SIM
# swap), so it is flagged as weak; no second factor at all, or not knowing, likewise.
TWO_FACTOR: tuple[tuple[str, str], ...] = (
    ("passkey", "Passkey"),
    ("security-key", "Security key"),
    ("authenticator-app", "Authenticator app"),
    ("sms", "SMS text message (weak)"),
    ("none", "None"),
    ("unknown", "Not known"),
)
TWO_FACTOR_NAMES = dict(TWO_FACTOR)
WEAK_2FA = frozenset({"sms", "none", "unknown"})

VERIFICATION: tuple[tuple[str, str], ...] = (
    ("verified", "Verified"),
    ("pending", "Applied for"),
    ("unverified", "Not verified"),
    ("unknown", "Not known"),
)
VERIFICATION_NAMES = dict(VERIFICATION)

# Mail providers anyone can sign up to: a recovery address there belongs to a person, not
# to the department, and leaves with them.
PERSONAL_MAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk",
        "live.com", "live.co.uk", "msn.com", "yahoo.com", "yahoo.co.uk", "icloud.com",
        "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "gmx.com",
        "gmx.co.uk", "btinternet.com", "sky.com", "virginmedia.com", "talktalk.net",
        "mail.com", "zoho.com", "fastmail.com", "tutanota.com", "yandex.com",
    }
)  # fmt: skip

_KEY_SPACE = re.compile(r"\s+")


def handle_key(handle: str) -> str:
    """How two handles are compared: "@DHSCgovuk" and "dhscgovuk" are one account."""
    return _KEY_SPACE.sub(" ", handle.strip().lstrip("@").casefold())


def team_key(team: str) -> str:
    return _KEY_SPACE.sub(" ", team.strip().casefold())


def personal_address(email: str) -> bool:
    """True for an address at a mail provider anyone can sign up to."""
    domain = email.rpartition("@")[2].strip().lower()
    return bool(domain) and domain in PERSONAL_MAIL


@dataclass(frozen=True)
class Person:
    """Someone named in the register. ``user_id`` is their chat id on the tenant's
    platform (``U0123ABCD`` on Slack) when known: leavers, reviews and "only the owner
    may change it" match on it; a CSV may name people by name and email alone."""

    name: str
    user_id: str = ""
    email: str = ""

    @property
    def key(self) -> str:
        """Who this is, for "the same person": the chat id, else the email, else the name."""
        if self.user_id:
            return f"id:{self.user_id}"
        if self.email:
            return f"email:{self.email.strip().lower()}"
        return f"name:{team_key(self.name)}"

    @property
    def label(self) -> str:
        return self.name or self.email or self.user_id


@dataclass(frozen=True)
class Access:
    """One person who can get into the account, and their role on the platform
    ("admin", "editor", "analyst", as the platform calls it)."""

    person: Person
    role: str = ""


@dataclass(frozen=True)
class Details:
    """Everything people edit about an account. ``platform`` is a code from
    :mod:`incidents.register.platforms`; ``two_factor`` and ``verification`` are codes
    from :data:`TWO_FACTOR` and :data:`VERIFICATION`; ``recovery_holder`` is who controls
    the recovery email and phone (a person or a shared team mailbox: ``recovery_shared``).
    """

    platform: str
    handle: str
    url: str = ""
    team: str = ""
    owner: Person | None = None
    access: tuple[Access, ...] = ()
    two_factor: str = "unknown"
    recovery_email: str = ""
    recovery_phone: str = ""
    recovery_holder: str = ""
    recovery_shared: bool = False
    verification: str = "unknown"
    tools: tuple[str, ...] = ()
    last_reviewed: date | None = None

    @property
    def platform_name(self) -> str:
        return platform_name(self.platform)

    @property
    def weak_2fa(self) -> bool:
        """SMS, none or not known: not the protection a government account needs."""
        return self.two_factor in WEAK_2FA

    @property
    def personal_recovery(self) -> bool:
        """The recovery email is at a personal mail provider."""
        return personal_address(self.recovery_email)

    @property
    def title(self) -> str:
        """How people recognise the account: "X @dhsc"."""
        return f"{self.platform_name} {self.handle}"


@dataclass(frozen=True)
class Account:
    """A kept account. ``tenant`` is ``bot.core.tenancy.tenant_of`` of where it was added
    (or the tenant an import was made for); ids are unique across tenants but a caller
    only ever reaches accounts of their own tenants."""

    id: int
    tenant: str
    details: Details
    created_at: datetime
    updated_at: datetime
    updated_by: str = ""  # a name, for people to read

    @property
    def platform(self) -> str:
        return self.details.platform

    @property
    def handle(self) -> str:
        return self.details.handle

    @property
    def team(self) -> str:
        return self.details.team

    @property
    def owner(self) -> Person | None:
        return self.details.owner

    @property
    def access(self) -> tuple[Access, ...]:
        return self.details.access

    @property
    def title(self) -> str:
        return self.details.title

    def is_owner(self, user_id: str) -> bool:
        owner = self.details.owner
        return bool(user_id) and owner is not None and owner.user_id == user_id

    def reaches(self, user_id: str) -> bool:
        """The person owns the account or has access to it."""
        if not user_id:
            return False
        return self.is_owner(user_id) or any(a.person.user_id == user_id for a in self.access)
