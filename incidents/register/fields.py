"""Reading one field as people write it, the same in a chat form and a CSV cell: a
platform, a 2FA method, a verification status, people with roles, tools, a date. Each
reader returns the value or raises :class:`Bad` with words the person can act on."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from bot.core.inert import one_line
from incidents.register.model import TWO_FACTOR_NAMES, VERIFICATION_NAMES, Access, Person
from incidents.register.platforms import PLATFORM_NAMES, platform_code

MAX_HANDLE, MAX_TEXT, MAX_URL, MAX_PEOPLE, MAX_TOOLS = 100, 200, 500, 100, 30


class Bad(ValueError):
    """A field that can't be read; the message says why, in plain words."""


def text(value: str | None, what: str, limit: int = MAX_TEXT) -> str:
    cleaned = one_line(value or "", 10_000).strip()
    if len(cleaned) > limit:
        raise Bad(f"{what} is longer than {limit} characters")
    return cleaned


def platform(value: str | None) -> str:
    code = platform_code(value or "")
    if code is None:
        known = ", ".join(PLATFORM_NAMES.values())
        shown = one_line(value or "", 40) or "(empty)"
        raise Bad(f"unknown platform “{shown}” (use one of: {known})")
    return code


_HANDLE = re.compile(r"^@?[^\s<>\"]{1,100}$|^[\w .'&()\-]{1,100}$")


def handle(value: str | None) -> str:
    cleaned = text(value, "the handle", MAX_HANDLE)
    if not cleaned:
        raise Bad("the handle is empty")
    if not _HANDLE.match(cleaned):
        raise Bad(f"“{cleaned[:40]}” doesn't look like an account handle")
    return cleaned


def url(value: str | None) -> str:
    cleaned = text(value, "the URL", MAX_URL)
    if cleaned and not re.match(r"^https?://[^\s/]+", cleaned, re.IGNORECASE):
        raise Bad("the URL must start with https://")
    return cleaned


_2FA_WORDS = {
    "passkey": "passkey",
    "passkeys": "passkey",
    "security key": "security-key",
    "securitykey": "security-key",
    "hardware key": "security-key",
    "yubikey": "security-key",
    "authenticator app": "authenticator-app",
    "authenticator": "authenticator-app",
    "app": "authenticator-app",
    "totp": "authenticator-app",
    "sms": "sms",
    "text": "sms",
    "text message": "sms",
    "none": "none",
    "no": "none",
    "": "unknown",
    "unknown": "unknown",
    "not known": "unknown",
}


def two_factor(value: str | None) -> str:
    word = re.sub(r"[\s_\-]+", " ", (value or "").strip().lower())
    word = re.sub(r"\s*\(weak\)$", "", word)
    code = word.replace(" ", "-") if word.replace(" ", "-") in TWO_FACTOR_NAMES else None
    code = code or _2FA_WORDS.get(word)
    if code is None:
        raise Bad(
            f"unknown 2FA method “{one_line(value, 40)}” (use passkey, security key, "
            "authenticator app, SMS or none)"
        )
    return code


_VERIFIED = {
    "verified": "verified", "yes": "verified", "true": "verified", "y": "verified",
    "pending": "pending", "applied": "pending", "applied for": "pending",
    "unverified": "unverified", "not verified": "unverified", "no": "unverified",
    "false": "unverified", "n": "unverified", "": "unknown", "unknown": "unknown",
    "not known": "unknown",
}  # fmt: skip


def verification(value: str | None) -> str:
    word = re.sub(r"[\s_\-]+", " ", (value or "").strip().lower())
    code = _VERIFIED.get(word) or (word if word in VERIFICATION_NAMES else None)
    if code is None:
        raise Bad(
            f"unknown verification status “{one_line(value, 40)}” "
            "(use verified, applied for, not verified or not known)"
        )
    return code


def yes_no(value: str | None, what: str) -> bool:
    word = (value or "").strip().lower()
    if word in ("yes", "y", "true", "1", "shared"):
        return True
    if word in ("", "no", "n", "false", "0", "person"):
        return False
    raise Bad(f"{what} must be yes or no, not “{one_line(value, 20)}”")


def when(
    value: str | None, what: str = "the last review date", latest: date | None = None
) -> date | None:
    """A date as people write it; with ``latest``, one after it is refused: a review
    can't have happened yet, and a mistyped year (2062 for 2026) would otherwise put the
    account's access reviews off for decades."""
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    for form in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = datetime.strptime(cleaned, form).date()
        except ValueError:
            continue
        if latest is not None and day > latest:
            raise Bad(f"{what} “{one_line(cleaned, 20)}” is in the future")
        return day
    raise Bad(f"{what} “{one_line(cleaned, 20)}” is not a date (write 2026-03-31)")


def latest_review(now: datetime) -> date:
    """The last day a review date may name: tomorrow (UTC), so a review done just after
    midnight in a time zone ahead of UTC is not refused."""
    return now.date() + timedelta(days=1)


# "Ann Smith <ann@dept.gov.uk> (admin)", "Ann Smith <U0123ABCD> (editor)", "Ann (analyst)".
# A name may have brackets of its own, as directories write them ("Smith, Ann (DCMS)",
# "Ann Smith (she/her)"): only the last bracket, after the contact if there is one, is
# the role.
_PERSON = re.compile(
    r"^(?P<name>[^<>]*?)\s*(?:<(?P<contact>[^<>]*)>)?\s*(?:\((?P<role>[^()]*)\))?$"
)
_USER_ID = re.compile(r"^[A-Za-z0-9:_.\-]{2,100}$")


def person(value: str, what: str = "a person") -> tuple[Person, str]:
    """One person as written: ``Name <email or chat id> (role)``; the role may be empty."""
    match = _PERSON.match(text(value, what, 300))
    if not match:
        raise Bad(f"can't read {what} “{one_line(value, 40)}” (write Name <email> (role))")
    name = match["name"].strip()
    contact = (match["contact"] or "").strip()
    email = user_id = ""
    if "@" in contact:
        email = contact
    elif contact:
        if not _USER_ID.match(contact):
            raise Bad(f"“{contact[:40]}” is neither an email address nor a chat id")
        user_id = contact
    if not (name or contact):
        raise Bad(f"{what} has no name")
    return Person(name[:MAX_TEXT], user_id, email[:MAX_TEXT]), (match["role"] or "").strip()


def people(value: str | None) -> tuple[Access, ...]:
    """People with access, separated by semicolons (or new lines in a chat form)."""
    parts = [p for p in re.split(r"[;\n]", value or "") if p.strip()]
    if len(parts) > MAX_PEOPLE:
        raise Bad(f"more than {MAX_PEOPLE} people with access")
    found: list[Access] = []
    for part in parts:
        who, role = person(part, "a person with access")
        found.append(Access(who, role[:MAX_TEXT]))
    return tuple(found)


def tools(value: str | None) -> tuple[str, ...]:
    parts = [text(p, "a connected tool") for p in re.split(r"[;\n]", value or "") if p.strip()]
    if len(parts) > MAX_TOOLS:
        raise Bad(f"more than {MAX_TOOLS} connected tools")
    return tuple(parts)


def write_person(p: Person, role: str = "") -> str:
    contact = p.user_id or p.email
    out = p.name + (f" <{contact}>" if contact else "")
    return (out + (f" ({role})" if role else "")).strip()


def write_people(access: tuple[Access, ...]) -> str:
    return "; ".join(write_person(a.person, a.role) for a in access)
