"""The one retry policy: exponential, capped, jittered, never sooner than Retry-After."""

from __future__ import annotations

import random

from bot.retry import PAGING, SLACK_RATE_LIMIT, TIPS


def test_delays_grow_to_the_cap_and_keep_retry_after_as_a_floor():
    rng = random.Random(3)
    delays = [TIPS.delay(n, rng=rng) for n in range(1, 12)]
    assert 30 * 0.75 <= delays[0] <= 30 and all(d <= 900 for d in delays)
    assert delays[-1] >= 900 * 0.75
    assert PAGING.delay(1, retry_after=120) >= 120
    assert PAGING.delay(1, retry_after=10_000) <= 600 * 1.25
    assert SLACK_RATE_LIMIT.delay(1, retry_after=3) == 3
