"""The one retry policy: exponential back-off with jitter, never sooner than Retry-After.

Expressed once with tenacity and used everywhere something is sent again: paging's
outbox (:mod:`incidents.paging.outbox`), the daily tips (:mod:`content.tips.delivery`),
and Slack's Web API calls answered 429 (:class:`SlackRateLimitRetry`, used by the Slack
transport, responder and the tips' fast path). Teams sends raise
:class:`bot.core.DeliveryFailed` with ``retry_after`` and their callers wait by this
same policy. Work kept in the database (a page, a tip) records its attempts and asks
:meth:`RetryPolicy.delay` when to come back; a call made in-process uses
:meth:`RetryPolicy.retrying` (a tenacity ``AsyncRetrying``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)


@dataclass(frozen=True)
class RetryPolicy:
    """``first`` seconds after the first failure, times ``growth`` after each further
    one, at most ``maximum``; then multiplied by a random factor in ``jitter`` (so many
    refused sends do not all come back in the same second). A Retry-After the other side
    gave is a floor (itself capped at ``maximum``). ``attempts`` bounds in-process tries."""

    first: float
    maximum: float
    growth: float = 2.0
    jitter: tuple[float, float] = (1.0, 1.25)
    attempts: int = 4

    def _wait(self) -> wait_exponential:
        return wait_exponential(multiplier=self.first, exp_base=self.growth, max=self.maximum)

    def delay(
        self,
        failures: int,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float:
        """Seconds to wait after ``failures`` failed attempts in a row (1 or more)."""
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = max(1, failures)
        base = self._wait()(state)
        delay = base * (rng or random).uniform(*self.jitter)
        if retry_after is not None:
            delay = max(delay, min(self.maximum, retry_after))
        return delay

    def retrying(
        self,
        retry_on: Callable[[BaseException], bool],
        retry_after: Callable[[BaseException], float | None] = lambda e: None,
        sleep: Callable | None = None,
    ) -> AsyncRetrying:
        """In-process retries of what ``retry_on`` accepts, ``attempts`` tries in all;
        the last error is raised as it is."""

        def wait(state: RetryCallState) -> float:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            hint = retry_after(error) if error is not None else None
            return self.delay(state.attempt_number, hint)

        retrying = AsyncRetrying(
            retry=retry_if_exception(retry_on),
            stop=stop_after_attempt(self.attempts),
            wait=wait,
            reraise=True,
        )
        return retrying if sleep is None else retrying.copy(sleep=sleep)


# Where each sender's numbers live, so they are easy to compare.
PAGING = RetryPolicy(first=10.0, maximum=600.0, jitter=(1.0, 1.25))  # first: a setting
TIPS = RetryPolicy(first=30.0, maximum=900.0, jitter=(0.75, 1.0))
# Exam completions to a learning record store (content.training.xapi): nobody waits on
# them, so back off up to an hour.
LRS = RetryPolicy(first=30.0, maximum=3600.0, jitter=(1.0, 1.25))
# Slack's 429s: Retry-After is honoured; without one, a second or so. Three retries,
# as slack_sdk's own handler did.
SLACK_RATE_LIMIT = RetryPolicy(first=1.0, maximum=60.0, growth=1.0, jitter=(1.0, 2.0), attempts=4)
