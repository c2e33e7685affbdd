"""Has everyone who can get into a registered account passed the exam in the last
twelve months (``SECBOT_EXAM_REFRESH_MONTHS``)? The names that fail, and the accounts
each can reach. People the register names without a chat id can't be matched to an exam
record; they are listed apart, so nobody is silently counted as trained.

For ``/secbot posture``: :func:`untrained_with_access`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.training import TrainingRecords

if TYPE_CHECKING:
    from bot.core import Services
    from incidents.register.model import Account
    from incidents.register.store import RegisterStore


@dataclass
class Untrained:
    name: str
    accounts: list[str] = field(default_factory=list)
    checkable: bool = True  # False: the register has no chat id for them


@dataclass
class TrainedCheck:
    people: int  # everyone with access (or ownership) checked
    untrained: list[Untrained]
    training_on: bool  # False: training isn't loaded, so nobody counts as trained


async def untrained_with_access(
    services: Services,
    register: RegisterStore,
    tenants: str | Iterable[str],
    *,
    accounts: Iterable[Account] | None = None,
) -> TrainedCheck:
    """``accounts``: the tenants' accounts when the caller has read them already (the
    posture summary does), so a big register is not loaded twice."""
    found: dict[str, Untrained] = {}
    keys: dict[str, str] = {}  # our key -> actor key for the exam records
    if accounts is None:
        accounts = await register.accounts(tenants)
    for account in accounts:
        platform = account.tenant.partition(":")[0]
        people = [a.person for a in account.access]
        if account.owner is not None:
            people.append(account.owner)
        for person in people:
            key = person.key
            entry = found.setdefault(key, Untrained(person.label, [], bool(person.user_id)))
            if account.title not in entry.accounts:
                entry.accounts.append(account.title)
            if person.user_id:
                keys[key] = f"{platform}:{person.user_id}"
    records: TrainingRecords | None = services.features.get(TrainingRecords)
    passes = await records.current_passes(sorted(set(keys.values()))) if records else {}
    untrained = [u for k, u in found.items() if not (k in keys and keys[k] in passes)]
    untrained.sort(key=lambda u: (u.checkable, u.name.casefold()))
    return TrainedCheck(len(found), untrained, records is not None)
