"""How long a 2,000-person training report takes: ``python -m bench.team_report``.

Seeds a fresh SQLite file the way the app would leave it (2,000 people assigned through
one team, each with a finished exam: ten answers and a result; a tenth overdue and
never passed), then times, on the real store and report code, assigning the team again,
building the report (each person's status, last score, weakest topics and principles)
and writing its CSV. Not part of ``make test``: it prints seconds, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.storage.db import open_db
from bot.storage.schema import upgrade
from bot.storage.sql import execute
from content.library.models import MODULES, PRINCIPLES
from content.quiz.store.tables import quiz_answers, quiz_exam_results, quiz_sessions
from content.training import report
from content.training.nudges import plan
from content.training.store import Assignee, TrainingStore

NOW = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)
TENANT, TEAM = "slack:T1", "everyone"


async def seed(db, people: int) -> list[tuple[str, str]]:
    keys = [(f"slack:U{n:06d}", f"Person {n}") for n in range(people)]
    sessions, results, answers = [], [], []
    for n, (key, name) in enumerate(keys):
        if n % 10 == 0:
            continue  # overdue: never taken
        done = NOW - timedelta(days=n % 300)
        sessions.append(
            dict(id=n + 1, kind="exam", user_key=key, user_name=name, questions="[]",
                 answered=10, correct=8, shown=10, shown_at=done, status="done",
                 platform="slack", workspace="T1", channel="D1", started_at=done,
                 finished_at=done)
        )  # fmt: skip
        results.append(
            dict(session_id=n + 1, user_key=key, user_name=name, score=8 + n % 3, total=10,
                 passed=1, started_at=done, completed_at=done, content_version="v1",
                 refresher_due=done + timedelta(days=365))
        )  # fmt: skip
        for q in range(10):
            answers.append(
                dict(user_key=key, user_name=name, item_id=f"item-{q}", module=MODULES[q % 3],
                     principle=PRINCIPLES[q % 5], choice=0, correct=int((n + q) % 4 != 0),
                     seconds=12.0, context="exam", session_id=n + 1, position=q,
                     platform="slack", workspace="T1", channel="D1", answered_at=done)
            )  # fmt: skip
    await execute(db, insert(quiz_sessions), sessions)
    await execute(db, insert(quiz_exam_results), results)
    await execute(db, insert(quiz_answers), answers)
    return keys


async def run(people: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        db = open_db(Path(folder) / "bench.db")
        await upgrade(db)
        keys = await seed(db, people)
        store = TrainingStore(db)
        due = date(2026, 12, 18)
        nudges = plan(due, NOW, hour=10, every=3, after=3)
        place = json.dumps({"platform": "slack", "workspace": "T1", "channel": "C1"})
        assignees = [Assignee(k, name, place, nudges) for k, name in keys]
        started = time.perf_counter()
        await store.assign(TENANT, assignees, team=TEAM, due_on=date(2026, 12, 1), by="slack:U",
                           by_name="Ada", now=NOW - timedelta(days=20))  # fmt: skip
        assign = time.perf_counter() - started
        started = time.perf_counter()
        assigned = {a.user_key: a for a in await store.of_team(TENANT, TEAM)}
        data = await report.build(db, TEAM, keys, assigned, NOW, None)
        lines = report.summary_lines(data)
        text = report.to_csv(data)
        build = time.perf_counter() - started
        await db.close()
    print("\n".join(lines))
    return {"people": people, "assign_seconds": assign, "report_seconds": build,
            "csv_bytes": len(text)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.team_report")
    parser.add_argument("--people", type=int, default=2000)
    args = parser.parse_args()
    result = asyncio.run(run(args.people))
    print(
        f"{result['people']} people: assigning the team took {result['assign_seconds']:.2f} s;"
        f" the report (summary and CSV, {result['csv_bytes']} bytes) took"
        f" {result['report_seconds']:.2f} s"
    )


if __name__ == "__main__":
    main()
