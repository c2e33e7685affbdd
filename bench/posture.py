"""How long the posture summary takes on a big register: ``python -m bench.posture``.

Seeds a fresh SQLite file through the register's own store (500 accounts in 25 teams,
each with four people with access: 2,000 people, each with a chat id), 70% of them with
an exam pass, an access review per account (a fifth overdue), 50 open incidents and a
drill per team. Then times, on the real code, reading and counting the posture
(``read_posture``), writing the chat message, and a ``/metrics`` scrape of the posture
gauges; while it runs, a ticker measures the longest the event loop was held (the
counting runs in a worker thread; the queries are the database's). A full garbage
collection is run before each timed step: the seeding leaves a heap whose collection
(a quarter of a second on a busy machine) would otherwise land in whichever step comes
next. Not part of ``make test``: it prints seconds, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bot.core.model import Actor, Place
from bot.core.training import TrainingRecords
from bot.metrics.registry import Metrics
from bot.storage.db import open_db
from bot.storage.schema import upgrade
from bot.storage.sql import execute
from content.quiz.store.tables import quiz_exam_results, quiz_sessions
from content.training import records
from incidents.posture.metrics import add_posture_metrics
from incidents.posture.reading import read_posture
from incidents.posture.view import summary
from incidents.register.model import Access, Details, Person
from incidents.register.platforms import CODES
from incidents.register.store import RegisterStore
from incidents.reviews.store import Reviewed, ReviewStore
from incidents.store import IncidentStore

NOW = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)
TENANT = "slack:T1"
PLACE = Place("slack", "T1", "D1")
ADMIN = Actor("slack", "UADMIN", "Ada Admin")
TWO_FACTOR = ("passkey", "security-key", "authenticator-app", "sms", "none")


class Records:
    """The training feature's answer (``Training.current_passes``), on the same query."""

    def __init__(self, db: Any):
        self.db = db

    async def current_passes(self, keys: Sequence[str]) -> dict[str, datetime]:
        _, passes = await records.latest(self.db, list(keys))
        return {k: p.completed_at for k, p in passes.items() if p.refresher_due > NOW}


class Services:
    """What the posture reads of the app's services: the database and the features."""

    def __init__(self, db: Any):
        self.db = db
        self.features: dict[type, Any] = {TrainingRecords: Records(db), Metrics: Metrics()}

    def find_feature(self, cls: type) -> Any:
        return self.features.get(cls)


async def seed(db: Any, accounts: int) -> None:
    register = RegisterStore(db)
    rows = []
    for n in range(accounts):
        people = tuple(
            Access(Person(f"Person {n}-{p}", f"U{n:04d}{p}"), "editor") for p in range(4)
        )
        rows.append(
            Details(
                platform=CODES[n % (len(CODES) - 1)], handle=f"@dept_account_{n}",
                team=f"Team {n % 25}", owner=people[0].person, access=people,
                two_factor=TWO_FACTOR[n % 5], recovery_email=f"team{n % 25}@dept.gov.uk",
                recovery_shared=n % 7 != 0,
            )
        )  # fmt: skip
    await register.apply(TENANT, rows, by=ADMIN, now=NOW - timedelta(days=200))
    sessions, results = [], []
    for n in range(accounts * 4):
        if n % 10 >= 7:
            continue  # 30% never passed
        key, done = f"slack:U{n // 4:04d}{n % 4}", NOW - timedelta(days=n % 300)
        sessions.append(
            dict(id=n + 1, kind="exam", user_key=key, user_name="", questions="[]",
                 answered=10, correct=9, shown=10, shown_at=done, status="done",
                 platform="slack", workspace="T1", channel="D1", started_at=done,
                 finished_at=done)
        )  # fmt: skip
        results.append(
            dict(session_id=n + 1, user_key=key, user_name="", score=9, total=10, passed=1,
                 started_at=done, completed_at=done, content_version="v1",
                 refresher_due=done + timedelta(days=365))
        )  # fmt: skip
    await execute(db, insert(quiz_sessions), sessions)
    await execute(db, insert(quiz_exam_results), results)
    reviews = ReviewStore(db)
    for account in await register.accounts(TENANT):
        late = account.id % 5 == 0
        due = (NOW - timedelta(days=10 if late else -10)).date()
        await reviews.open(
            tenant=TENANT, account_id=account.id, account_title=account.title,
            period="2026-10", owner_id=account.owner.user_id if account.owner else "",
            owner_name="Owner", place=PLACE.to_json(),
            people=[Reviewed(a.person.key, a.person.name, a.role) for a in account.access],
            now=NOW - timedelta(days=30), due_on=due, next_reminder_at=NOW,
        )  # fmt: skip
    incidents = IncidentStore(db)
    for n in range(50 + 25):
        drill = n >= 50
        await incidents.create(
            NOW - timedelta(hours=n), reporter=ADMIN, origin=PLACE, drill=drill,
            platform="x", account=f"@dept_account_{n}", owning_team=f"Team {n % 25}",
        )  # fmt: skip


async def held_longest(stop: asyncio.Event) -> float:
    """The longest gap between ticks of a 1 ms timer: how long the loop was held."""
    longest, last = 0.0, time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        longest, last = max(longest, now - last - 0.001), now
    return longest


async def run(accounts: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        db = open_db(Path(folder) / "bench.db")
        await upgrade(db)
        await seed(db, accounts)
        services = Services(db)
        add_posture_metrics(services)  # type: ignore[arg-type]
        timings: dict[str, float] = {}
        held = 0.0

        async def timed(label: str, step: Any) -> Any:
            nonlocal held
            gc.collect()  # the seeding's garbage is not the posture's cost
            stop = asyncio.Event()
            ticker = asyncio.create_task(held_longest(stop))
            await asyncio.sleep(0.01)
            started = time.perf_counter()
            result = await step()
            timings[label] = time.perf_counter() - started
            stop.set()
            held = max(held, await ticker)
            return result

        def read() -> Any:
            return read_posture(services, [TENANT], NOW)  # type: ignore[arg-type]

        await timed("first read: read and count", read)
        posture = await timed("second read: read and count", read)
        started = time.perf_counter()
        message = summary(posture, PLACE)
        timings["write the chat message"] = time.perf_counter() - started
        exposition = await timed(
            "/metrics scrape (posture gauges)", lambda: services.features[Metrics].render(NOW)
        )
        timings["longest the event loop was held"] = held
        await db.close()
    print(message.text.split("\n\n")[1])
    print(f"(/metrics: {len(exposition)} bytes)")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.posture")
    parser.add_argument("--accounts", type=int, default=500)
    args = parser.parse_args()
    timings = asyncio.run(run(args.accounts))
    print(f"{args.accounts} accounts, {args.accounts * 4} people with access:")
    for what, seconds in timings.items():
        print(f"  {what}: {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
