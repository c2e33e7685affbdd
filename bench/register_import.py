"""How long a 500-account register import takes (issue 19's closing note asks):
``python -m bench.register_import [--accounts 500]``.

It writes a CSV of N accounts (each with an owner, three people with access and two
tools), then times what the chat import does with it on a fresh SQLite file: reading
and checking every row (the dry run), keeping the good rows for the "Import" click, and
applying them in one transaction; then the same file again (every row now updates a
registered account). Not part of ``make test`` or ``make bench``; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.core.model import Actor
from bot.storage.db import open_db
from bot.storage.schema import upgrade
from incidents.register import csv_io
from incidents.register.imports import Imports
from incidents.register.platforms import CODES
from incidents.register.store import RegisterStore

ADMIN = Actor("web", "bench-admin", "Bench Admin")


def make_csv(n: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_io.HEADER)
    for i in range(n):
        team = f"Team {i % 25}"
        people = "; ".join(f"Person {i}-{p} <p{i}-{p}@dept.gov.uk> (editor)" for p in range(3))
        writer.writerow([
            CODES[i % (len(CODES) - 1)], f"@dept_account_{i}", f"https://example.org/a/{i}",
            team, f"Owner {i} <owner{i}@dept.gov.uk>", people,
            ("passkey", "security key", "authenticator app", "sms")[i % 4],
            f"team{i % 25}@dept.gov.uk", "+44 20 7946 0000", f"{team} shared mailbox", "yes",
            "verified", "Hootsuite (scheduling); Brandwatch (listening)", "2026-10-01",
        ])  # fmt: skip
    return out.getvalue().encode("utf-8")


async def run(n: int) -> dict[str, float]:
    data = make_csv(n)
    with tempfile.TemporaryDirectory() as folder:
        db = open_db(Path(folder) / "bench.db")
        await upgrade(db)
        store = RegisterStore(db)
        imports = Imports(db, store)
        timings: dict[str, float] = {}
        for round_name in ("first import", "same file again (updates)"):
            t0 = time.perf_counter()
            parsed = csv_io.parse(data)
            t1 = time.perf_counter()
            assert not parsed.problems and len(parsed.rows) == n, parsed.problems[:3]
            now = datetime.now(UTC)
            staged = await imports.stage("web:local", ADMIN, "bench.csv",
                                         [d for _, d in parsed.rows], now)  # fmt: skip
            t2 = time.perf_counter()
            applied = await imports.apply(staged, ("web:local",), ADMIN, now)
            t3 = time.perf_counter()
            assert applied is not None and applied.added + applied.updated == n
            timings[f"{round_name}: read and check (dry run)"] = t1 - t0
            timings[f"{round_name}: keep for the click"] = t2 - t1
            timings[f"{round_name}: apply"] = t3 - t2
            timings[f"{round_name}: total"] = t3 - t0
        t0 = time.perf_counter()
        accounts = await store.accounts("web:local")
        timings["list all accounts"] = time.perf_counter() - t0
        assert len(accounts) == n
        t0 = time.perf_counter()
        csv_io.export(accounts)
        timings["export as CSV"] = time.perf_counter() - t0
        await db.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.register_import")
    parser.add_argument("--accounts", type=int, default=500)
    args = parser.parse_args()
    timings = asyncio.run(run(args.accounts))
    print(f"Register import of {args.accounts} accounts (SQLite, this machine):")
    for name, seconds in timings.items():
        print(f"  {name:<52} {seconds * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
