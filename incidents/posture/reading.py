"""Reading the posture of some tenants from the stores that own each part: the register,
the access reviews (with the exam records, through ``TrainingRecords``) and the
incidents. A handful of queries whatever the size of the register (the accounts are read
once and handed to the trained-access check); the counting runs in a worker thread, and
the reads give the event loop a turn between them, so a big register never holds up
other people's requests for long."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from incidents.posture.figures import Posture, tally
from incidents.register.store import RegisterStore
from incidents.reviews.calendar import today
from incidents.reviews.store import overdue_reviews
from incidents.reviews.trained import untrained_with_access
from incidents.store import summary

if TYPE_CHECKING:
    from bot.core import Services

# Open incidents listed by id (the newest): the counts cover them all.
LISTED_INCIDENTS = 50


async def read_posture(services: Services, tenants: Iterable[str], at: datetime) -> Posture:
    keys = tuple(dict.fromkeys(tenants))
    db = services.db
    register = RegisterStore(db)
    accounts = await register.accounts(keys)
    await asyncio.sleep(0)  # let other work in between the reads of a big register
    trained = await untrained_with_access(services, register, keys, accounts=accounts)
    await asyncio.sleep(0)
    overdue = await overdue_reviews(db, keys, today(at))
    counts = await summary.open_counts(db, keys)
    listed = await summary.open_incidents(db, keys, LISTED_INCIDENTS)
    drills = await summary.last_drills(db, keys)
    return await asyncio.to_thread(tally, at, accounts, overdue, trained, counts, listed, drills)


async def posture_tenants(services: Services) -> list[str]:
    """Every tenant with a registered account or an open incident (for ``/metrics``)."""
    found = await RegisterStore(services.db).tenants()
    found += await summary.tenants_with_open(services.db)
    return sorted(set(found))
