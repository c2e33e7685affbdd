"""One and three secbot instances on one PostgreSQL database (issue 14: several instances
share the work with nothing lost or doubled).

Each run starts ``n`` ``python -m app`` processes on a fresh database, posts one ``/quiz``
to make the channel's question, then sends ``quiz:answer`` clicks (each from a different
person) at concurrency 64, spread over the instances in turn as a round-robin load
balancer would. Once the load stops, the bench waits for the inbox to empty and reads
the answers back from the database: every acknowledged click must be recorded exactly
once (``lost`` and ``duplicated`` are counted there, not on the wire). The figure to read
is the handled rate of three instances against one.
"""

from __future__ import annotations

import asyncio
import time

from bench import parts
from bench.databases import PostgresTarget, postgres_server
from bench.loadgen import run_load
from bench.procs import Server, start

COUNTS = (1, 3)
CONCURRENCY = 64
COLS = [
    "instances",
    "acked",
    "rps",
    "p99_ms",
    "drain_s",
    "handled_rps",
    "answers",
    "lost",
    "duplicated",
    "server_cpu",
]


async def _question_posted(srv: Server, target: PostgresTarget, fake: Server) -> None:
    """One ``/quiz`` in the channel (post 1, which the clicks answer), handled."""
    import aiohttp

    [quiz] = parts._slash_bodies(fake.url + "response/bench", 1)
    async with aiohttp.ClientSession() as session:
        url = srv.url + "slack/events"
        async with session.post(url, data=quiz.body, headers=quiz.headers) as r:
            assert r.status == 200, await r.text()
    deadline = time.monotonic() + 60
    while await target.scalar("SELECT count(*) FROM quiz_posts") < 1:
        if time.monotonic() > deadline:
            raise RuntimeError("the first /quiz was not handled within 60 s")
        await asyncio.sleep(0.05)


async def _run(fake: Server, pg_url: str, n: int, seconds: float) -> dict:
    target = await PostgresTarget(pg_url).create()
    servers: list[Server] = []
    try:
        env = {**parts.our_env(fake, None), **target.env()}
        # One after another: the first creates the schema, the others find it made.
        for i in range(n):
            servers.append(start(f"secbot-{i + 1}", ["-m", "app"], env))
        await _question_posted(servers[0], target, fake)
        bodies = parts._click_bodies(fake.url + "response/bench", "1|0", parts.CLICK_BODIES)
        acked: set[int] = set()
        cpu0 = sum(s.cpu_seconds() for s in servers)
        wall0 = time.perf_counter()
        urls = [s.url + "slack/events" for s in servers]
        res = await run_load(urls, bodies, CONCURRENCY, seconds, 200, acked)
        work = await parts._drain(target.pending, res)
        cpu = (sum(s.cpu_seconds() for s in servers) - cpu0) / (time.perf_counter() - wall0)
        answers = await target.answers()
    finally:
        for srv in servers:
            srv.stop()
        await target.close()
    # Each click is a different person (U<i>), so each acknowledged click is one answer.
    recorded = {key.rsplit(":", 1)[-1]: times for key, times in answers.items()}
    wanted = {f"U{i}" for i in acked}
    return {
        "instances": n,
        "acked": len(acked),
        "requests": res.requests,
        "errors": res.errors,
        "rps": round(res.rps, 1),
        "p99_ms": round(res.pct(99), 2),
        **work,
        "answers": sum(1 for user in wanted if user in recorded),
        "lost": sum(1 for user in wanted if user not in recorded),
        "duplicated": sum(times - 1 for times in recorded.values() if times > 1),
        "server_cpu": round(cpu, 2),
    }


async def instances(seconds: float) -> dict:
    fake = parts.fake_apis()
    try:
        with postgres_server() as pg_url:
            if pg_url is None:
                return {"skipped": "PostgreSQL is not installed"}
            runs = [await _run(fake, pg_url, n, seconds) for n in COUNTS]
    finally:
        fake.stop()
    one, three = runs[0], runs[-1]
    out = {
        "runs": runs,
        "handled_ratio_3_vs_1": parts.ratio(three["handled_rps"], one["handled_rps"]),
        "lost": sum(r["lost"] for r in runs),
        "duplicated": sum(r["duplicated"] for r in runs),
        "left_kept": sum(r["left_kept"] for r in runs),
    }
    parts.print_table(
        f"quiz:answer clicks on PostgreSQL, 1 vs {COUNTS[-1]} instances (round-robin, "
        f"concurrency {CONCURRENCY}); answers counted in the database",
        runs,
        COLS,
    )
    print(f"  handled, {COUNTS[-1]} instances vs 1: {out['handled_ratio_3_vs_1']}")
    return out
