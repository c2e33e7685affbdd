"""The triage questions for a compromised account, and how severity follows from the answers.

Kept free of chat and storage so the rules can be read (and tested) on their own:
platform → what is happening (several) → can we still log in → is harmful content
live now → may direct messages or personal data have been seen. Severity 1 is the worst.

The person answering is often frightened and not technical, so every question has
"Not sure" (stored as ``unsure``), and a "Not sure" is read cautiously, never kindly:

- Not sure what is happening: treated as a hijack, severity at least 2.
- Not sure we can still log in: treated as locked out (the recovery route comes first,
  severity 1), exactly like "No".
- Not sure whether harmful content is live: severity at least 2, the level of a
  confirmed hijack with nobody locked out. Only a "Yes" makes it 1 on this answer.
- Personal data "Yes" or "Not sure": severity at least 2, and the data-protection
  steps (the DPO, the ICO's 72 hours) join the checklist (``when: {personal_data: ...}``).

The kind is impersonation only when a fake account is the one thing happening and we
can still log in to our own account ("Yes"); any doubt makes it a hijack. Impersonation
is severity 3 (2 on a cautious answer above) and never 1 unless harmful content is
spreading. Otherwise: harmful content live or access lost or unsure → 1; changed
settings, an unknown login, a phished password or "not sure what is happening" → 2;
a lost device → 3; anything else → 4.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

from incidents.register.platforms import PLATFORM_NAMES, WITH_PLAYBOOKS

# Every triage question has "Not sure", stored as "unsure" and read cautiously.
Answer = Literal["yes", "no", "unsure"]
ANSWERS: tuple[Answer, ...] = ("yes", "no", "unsure")
Kind = Literal["hijack", "impersonation"]

# (id, label) in the order the buttons show them: the platforms with a playbook, named
# as the register names them.
PLATFORMS: tuple[tuple[str, str], ...] = tuple((c, PLATFORM_NAMES[c]) for c in WITH_PLAYBOOKS)
PLATFORM_IDS = frozenset(dict(PLATFORMS))
NOT_SURE = "unsure"  # the answer "Not sure" to any question, the platform too
# "on X", "on LinkedIn": the names as each platform writes them.
PLATFORM_LABELS = {**dict(PLATFORMS), NOT_SURE: "Not sure"}


def platform_in_words(code: str | None) -> str:
    """The platform as a sentence names it ("our X account"); "social media" when it is
    not known ("Not sure", "Other" or not answered yet), so no sentence reads "our Not
    sure account"."""
    return PLATFORM_LABELS[code] if code in PLATFORM_IDS and code != "other" else "social media"


PLATFORM_ALIASES = {
    "twitter": "x",
    "x.com": "x",
    "twitter.com": "x",
    "fb": "facebook",
    "facebook.com": "facebook",
    "ig": "instagram",
    "insta": "instagram",
    "instagram.com": "instagram",
    "linkedin.com": "linkedin",
    "yt": "youtube",
    "youtube.com": "youtube",
    "tiktok.com": "tiktok",
}

SYMPTOMS: tuple[tuple[str, str], ...] = (
    ("locked-out", "We can't log in"),
    ("rogue-posts", "Posts or messages we didn't send"),
    ("settings-changed", "Security settings, recovery email or phone changed"),
    ("unknown-login", "Login alert from somewhere unknown"),
    ("phished", "A suspicious link was clicked or the password typed into a fake page"),
    ("impersonation", "An impersonation account"),
    ("lost-device", "A lost or stolen device with access"),
)
UNSURE_SYMPTOM = NOT_SURE  # "Not sure" what is happening: kept with the symptoms
SYMPTOM_LABELS = {**dict(SYMPTOMS), UNSURE_SYMPTOM: "Not sure what is happening"}

# Flags add playbook steps that no triage answer implies (fraud → Report Fraud).
FLAGS: dict[str, str] = {"fraud": "Fraud or a scam is involved"}

SEVERITY_LABELS = {1: "1 (critical)", 2: "2 (high)", 3: "3 (moderate)", 4: "4 (low)"}

# Triage steps, in order; "done" means the incident record has its severity.
STEPS = ("platform", "symptoms", "access", "harmful", "personal", "done")
QUESTIONS = len(STEPS) - 1
LAST_QUESTION = STEPS[-2]
ANSWER_LABELS: dict[str, str] = {"yes": "Yes", "no": "No", "unsure": "Not sure"}

_SERIOUS = {"settings-changed", "unknown-login", "phished"}
_LESSER = {"impersonation", "lost-device"}


def cautious(answer: str | None) -> bool:
    """A "yes" or a "Not sure": both are acted on as if the worst were true."""
    return answer in ("yes", "unsure")


def kind_for(symptoms: Collection[str], access: str) -> Kind:
    """Impersonation only when a fake account is the one thing happening and we can
    still log in to our own; anything else, or any doubt, is treated as a hijack."""
    if set(symptoms) == {"impersonation"} and access == "yes":
        return "impersonation"
    return "hijack"


def assess(symptoms: Collection[str], access: str, harmful: str, personal_data: str = "no") -> int:
    """The severity (1 is the worst) from the triage answers; see the module docstring."""
    found = set(symptoms)
    if harmful == "yes":
        return 1
    if kind_for(found, access) == "hijack" and access != "yes":
        return 1
    severity = 4
    if found & _SERIOUS or UNSURE_SYMPTOM in found:
        severity = 2
    elif found & _LESSER:
        severity = 3
    if harmful == "unsure" or cautious(personal_data):
        severity = min(severity, 2)
    return severity


def _answer(value: bool | str | None) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value or "unsure"


def severity_for(
    symptoms: Collection[str],
    has_access: bool | str,
    harmful_live: bool | str,
    personal_data: bool | str = "no",
) -> int:
    """:func:`assess` taking True/False as well as the answers."""
    return assess(symptoms, _answer(has_access), _answer(harmful_live), _answer(personal_data))


@dataclass(frozen=True)
class Facts:
    """What triage learnt about one incident: what the playbooks choose steps by
    (``incidents.playbooks.Playbooks.steps_for``) and what severity follows from."""

    platform: str | None
    kind: Kind = "hijack"  # "Not sure" what's happening -> treated as hijack
    symptoms: frozenset[str] = field(default_factory=frozenset)
    access: Answer = "yes"  # can we still log in / admin access? no|unsure -> locked-out route
    harmful: Answer = "no"  # harmful content live now? unsure -> cautious
    personal_data: Answer = "no"  # DMs or personal data may be exposed? yes|unsure -> DPO/ICO
    flags: frozenset[str] = field(default_factory=frozenset)
    severity: int | None = None

    @classmethod
    def of(
        cls,
        platform: str | None,
        symptoms: Iterable[str] = (),
        severity: int | None = None,
        flags: Iterable[str] = (),
        **answers: str,
    ) -> Facts:
        """Facts from plain iterables; the answers (and ``kind``) by keyword. Without a
        ``kind`` it follows from the symptoms and access (:func:`kind_for`)."""
        chosen = frozenset(symptoms)
        answers.setdefault("kind", kind_for(chosen, answers.get("access", "yes")))
        return cls(
            platform=platform,
            symptoms=chosen,
            severity=severity,
            flags=frozenset(flags),
            **answers,  # type: ignore[arg-type]
        )


def platform_id(word: str) -> str | None:
    word = word.strip().lower()
    word = PLATFORM_ALIASES.get(word, word)
    return word if word in PLATFORM_IDS else None


_DEPT = re.compile(r"""\bdept=(?:"([^"]*)"|'([^']*)'|(\S+))""", re.IGNORECASE)
_HANDLE = re.compile(r"^@?[A-Za-z0-9_.\-]{1,100}$")
# Punctuation around a word in a sentence ("on X," "@dhsc." "(Facebook)"), and a
# possessive ("Facebook's page").
_EDGES = "\"'“”‘’.,;:!?()[]{}<>"
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
# Words that say an account was broken into, in a mention or a direct message.
_HACKED = re.compile(
    r"\b(hack(?:ed|ing)?|compromised?|hijack(?:ed|ing)?|taken over|took over|"
    r"broken into|(?:got|get|gotten) into|locked (?:us )?out)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StartArgs:
    platform: str | None = None
    handle: str | None = None
    department: str | None = None
    error: str | None = None
    words: str = ""  # the rest, in the reporter's own words ("we've been hacked on")


def normalise_handle(text: str) -> str | None:
    """``@name`` or ``name`` → ``@name``; None if it does not look like an account name."""
    text = text.strip()
    if not _HANDLE.match(text):
        return None
    return text if text.startswith("@") else "@" + text


def parse_start(args: str) -> StartArgs:
    """``[platform] [@handle] [dept=<name>]`` in any order, in a sentence or not:
    "we've been hacked on X, @dhsc" reads as platform X and account @dhsc. The first
    platform name (or alias: twitter, fb, insta…) and the first @account are taken;
    every other word is kept in ``words``. Refused (``error``): a word starting with @
    that is no account name, and one unknown word alone."""
    department = None
    match = _DEPT.search(args)
    if match:
        department = next(g for g in match.groups() if g is not None).strip() or None
        args = (args[: match.start()] + args[match.end() :]).strip()
    platform = handle = None
    rest: list[str] = []
    for word in args.split():
        bare = _POSSESSIVE.sub("", word.strip(_EDGES))
        if handle is None and bare.startswith("@") and normalise_handle(bare):
            handle = normalise_handle(bare)
        elif platform is None and not bare.startswith("@") and platform_id(bare):
            platform = platform_id(bare)
        elif word.startswith("@"):
            # Meant as the account's name, but not one: refused, so it is typed again.
            # The caller adds how to type the command where the person is.
            return StartArgs(error=f"I didn't understand “{word[:40]}”.")
        else:
            rest.append(word)
    if len(rest) == 1 and not (platform or handle or department or sounds_hacked(rest[0])):
        # One word alone that says nothing we know ("frobnicate"): most likely a
        # mistyped sub-command, not a report.
        return StartArgs(error=f"I didn't understand “{rest[0][:40]}”.")
    return StartArgs(platform, handle, department, words=" ".join(rest))


def sounds_hacked(text: str) -> bool:
    """True when everyday words say an account was hacked, compromised or taken over."""
    return bool(_HACKED.search(text or ""))
