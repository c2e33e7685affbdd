"""An HTTP load generator that is cheap per request, so the server saturates first.

Bodies and signatures are computed before the clock starts; the hot loop only sends
bytes and records latencies.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import aiohttp


@dataclass
class Prepared:
    body: bytes
    headers: dict[str, str]


@dataclass
class LoadResult:
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        k = min(len(data) - 1, max(0, round(p / 100 * (len(data) - 1))))
        return data[k]

    def row(self) -> dict:
        return {
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.pct(50), 2),
            "p95_ms": round(self.pct(95), 2),
            "p99_ms": round(self.pct(99), 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else None,
        }


async def run_load(
    url: str | Sequence[str],
    requests: Sequence[Prepared],
    concurrency: int,
    seconds: float,
    expect_status: int | Collection[int] = 200,
    acked: set[int] | None = None,
) -> LoadResult:
    """Send ``requests`` round-robin from ``concurrency`` workers for ``seconds``.

    Given several URLs (one per instance), the requests are spread over them in turn, as
    a round-robin load balancer would. ``acked`` collects the index of every request that
    got ``expect_status`` (to check afterwards that each was handled once)."""
    urls = [url] if isinstance(url, str) else list(url)
    expected = {expect_status} if isinstance(expect_status, int) else set(expect_status)
    latencies: list[float] = []
    errors = 0
    counter = 0
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors, counter
            while time.perf_counter() < stop_at:
                index = counter % len(requests)
                target = urls[counter % len(urls)]
                req = requests[index]
                counter += 1
                t0 = time.perf_counter()
                try:
                    async with session.post(target, data=req.body, headers=req.headers) as resp:
                        await resp.read()
                        ok = resp.status in expected
                except aiohttp.ClientError:
                    ok = False
                dt = (time.perf_counter() - t0) * 1000
                if ok:
                    latencies.append(dt)
                    if acked is not None:
                        acked.add(index)
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadResult(concurrency, len(latencies), errors, elapsed, latencies)
