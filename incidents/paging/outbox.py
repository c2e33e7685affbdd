"""Sending what the outbox holds: retry with backoff, then fall back, and say so.

A page is in ``paging_outbox`` before any provider is called, so a crash or restart
never loses it: the worker claims due rows (pending → sending), and at start-up
rows a dead process was sending become due again. That makes delivery
at-least-once for a crash in the middle of a provider call (PagerDuty's dedup key
absorbs the repeat) and exactly-once otherwise: the UNIQUE key means the same page
is never written twice, and a row that is sent is never claimed again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.retry import PAGING
from bot.storage.pauses import RatePauses, SharedPauses
from incidents.paging.model import IncidentInfo, Notice
from incidents.paging.providers import PageRequest, Provider, ProviderResult, target_from_json
from incidents.paging.store import IncidentRow, NewPage, PageRow, PagingStore
from incidents.paging.wording import how

log = logging.getLogger(__name__)

SEND_TIMEOUT = 60.0
MAX_BACKOFF = 600.0

Emit = Callable[[str, Notice], Awaitable[None]]


def told_us(provider: str, actor: str | None) -> bool:
    """Whether an acknowledgement came from ``provider``'s own tool (its actor key is
    ``pagerduty:PLH1HKV``), which needs no word back. Only PagerDuty: a generic callback's
    actor key does not say which of several webhook targets it came from."""
    return provider == "pagerduty" and bool(actor) and str(actor).startswith("pagerduty:")


def page_key(incident_id: str, step: int, round_: int, target_id: str, action: str) -> str:
    return f"{incident_id}/{step}/{round_}/{target_id}/{action}"


def backoff(attempt: int, base: float, rng: random.Random, retry_after: float | None) -> float:
    """The shared retry policy (``bot.retry.PAGING``) from ``base`` seconds: exponential,
    at most 10 minutes, plus up to 25% jitter; never sooner than Retry-After."""
    return replace(PAGING, first=base, maximum=MAX_BACKOFF).delay(attempt, retry_after, rng)


async def key_as_name(key: str) -> str:
    """Paging on its own names a person by their actor key."""
    return key


class Outbox:
    def __init__(
        self,
        store: PagingStore,
        providers: dict[str, Provider],
        clock: Any,
        emit: Emit,
        *,
        max_attempts: int = 4,
        retry_base: float = 10.0,
        ack_hint: Callable[[], str],
        name_of: Callable[[str], Awaitable[str]] | None = None,
        rng: random.Random | None = None,
    ):
        self.store = store
        self.providers = providers
        self.clock = clock
        self.emit = emit
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.ack_hint = ack_hint
        self.name_of = name_of or key_as_name
        self.rng = rng or random.Random()
        # A provider's Retry-After holds back every page to it, on every instance.
        self.pauses = SharedPauses(RatePauses(store.db), "paging")

    def label(self, provider: str) -> str:
        p = self.providers.get(provider)
        return p.label if p is not None else provider

    def followups(self, action: str) -> Callable[[list[PageRow]], list[NewPage]]:
        """For acknowledge/resolve: one message per sent page (chat, to update it) or one
        per target (PagerDuty, webhooks), for providers that handle ``action``."""

        def make(sent: list[PageRow]) -> list[NewPage]:
            out: list[NewPage] = []
            for row in sent:
                provider = self.providers.get(row.provider)
                if provider is None or action not in provider.actions:
                    continue
                step, rnd = (row.step, row.round) if provider.per_page_followups else (0, 0)
                out.append(
                    NewPage(step, rnd, row.target_id, action, row.provider, row.target, ref=row.ref)
                )
            return out

        return make

    async def request(self, row: PageRow, inc: IncidentRow) -> PageRequest:
        return PageRequest(
            key=page_key(row.incident_id, row.step, row.round, row.target_id, row.action),
            action=row.action,
            incident=IncidentInfo.from_json(inc.info),
            target_id=row.target_id,
            target=target_from_json(row.target),
            step=row.step,
            round=row.round,
            attempt=row.attempts,
            now=self.clock.now(),
            ack_hint=self.ack_hint(),
            ref=row.ref,
            acknowledged_by=inc.acknowledged_by,
            # The name stored with the acknowledgement; without one (no name was given,
            # or it was acknowledged before names were stored), name_of says.
            acknowledged_by_name=inc.acknowledged_by_name
            or (await self.name_of(inc.acknowledged_by) if inc.acknowledged_by else None),
        )

    async def deliver(self, row: PageRow) -> None:
        """Send one claimed row and record what happened. Cancellation writes nothing."""
        inc = await self.store.incident(row.incident_id)
        if inc is None:
            await self.store.pages.mark_done(
                row.id, "failed", "the incident is not known to paging"
            )
            return
        if row.action == "trigger" and inc.state != "active":
            moot = f"incident {inc.state} before it was sent"
            await self.store.pages.mark_done(row.id, "cancelled", moot)
            return
        provider = self.providers.get(row.provider)
        paused = self.pauses.get(row.provider)
        if paused is not None and paused > self.clock.now():
            # The provider asked for a pause (here or on another instance): wait it out
            # without spending one of the page's attempts.
            await self.store.pages.defer(row.id, paused, "waiting for the provider's rate limit")
            return
        if provider is None:
            result = ProviderResult(False, False, f"no provider called {row.provider}")
        else:
            try:
                request = await self.request(row, inc)
                result = await asyncio.wait_for(provider.send(request), SEND_TIMEOUT)
            except TimeoutError:
                result = ProviderResult(False, True, f"{provider.label}: no answer in time")
            except Exception as e:  # a provider bug must not stop paging
                log.exception("paging provider %s failed on page %s", row.provider, row.id)
                result = ProviderResult(False, True, f"{provider.label}: {type(e).__name__}")
        await self.record(row, result)

    async def record(self, row: PageRow, result: ProviderResult) -> None:
        now = self.clock.now()
        if result.ok:
            await self.store.pages.mark_sent(row.id, now, result.ref, result.detail or None)
            log.info("page %s to %s sent (attempt %d)", row.id, row.target_id, row.attempts)
            if row.action == "trigger":
                inc = await self.store.incident(row.incident_id)
                if inc is not None and inc.state != "active":
                    # Acknowledged while this page was in flight: tell this target too.
                    action = "acknowledge" if inc.state == "acknowledged" else "resolve"
                    # The tool the acknowledgement came from already knows.
                    knows = action == "acknowledge" and told_us(row.provider, inc.acknowledged_by)
                    sent = [
                        r for r in await self.store.pages.all(row.incident_id)
                        if r.id == row.id and not knows
                    ]  # fmt: skip
                    await self.store.pages.add(row.incident_id, self.followups(action)(sent), now)
            return
        if result.retry_after is not None:  # every instance holds back this provider
            self.pauses.set(row.provider, now + timedelta(seconds=result.retry_after), "429")
            await self.pauses.sync(now)
        if result.retryable and row.attempts < self.max_attempts:
            delay = backoff(row.attempts, self.retry_base, self.rng, result.retry_after)
            await self.store.pages.mark_retry(row.id, now + timedelta(seconds=delay), result.detail)
            log.info(
                "page %s to %s: attempt %d failed, retrying in %.0fs",
                row.id,
                row.target_id,
                row.attempts,
                delay,
            )
            return
        await self.store.pages.mark_done(row.id, "failed", result.detail)
        log.warning("page %s to %s failed (attempts: %d)", row.id, row.target_id, row.attempts)
        await self.fail(row, result, now)

    async def fail(self, row: PageRow, result: ProviderResult, now: datetime) -> None:
        """Report a page that will not be delivered, and try its fallback target. Each
        notice says it twice (:class:`Notice`): with the target, provider and error for
        admins, and in plain words for everyone else."""
        label = self.label(row.provider)
        tries = f" after {row.attempts} attempts" if row.attempts > 1 else ""
        way = how(row.provider)
        iid = row.incident_id
        if row.action != "trigger":
            done = "acknowledged" if row.action == "acknowledge" else "resolved"
            await self.emit(
                iid,
                Notice(
                    f"Could not tell {row.target_id} ({label}) that the incident was {done}"
                    f"{tries}: {result.detail}.",
                    f"We couldn't tell the on-call team by {way} that the incident was {done}.",
                ),
            )
            return
        head = f"Could not page {row.target_id} ({label}){tries}: {result.detail}."
        plain = f"We couldn't reach the on-call team by {way}"
        inc = await self.store.incident(iid)
        fallback = row.target.get("fallback")
        chain_targets = inc.chain.get("targets", {}) if inc else {}
        if inc is None or inc.state != "active":
            await self.emit(iid, Notice(head, f"{plain}."))
            return
        if row.step <= int(inc.chain.get("offset", 0)):
            # A page of a chain that another team's has replaced: no fallback now.
            await self.emit(
                iid,
                Notice(
                    f"{head} Another team is being paged instead.",
                    f"{plain}; another team is being paged instead.",
                ),
            )
            return
        if not fallback or fallback not in chain_targets:
            await self.emit(
                iid,
                Notice(
                    f"{head} No fallback is set up for it.",
                    f"{plain}, and there is no other way set up to try instead.",
                ),
            )
            return
        fb = chain_targets[fallback]
        fb_label = self.label(fb["type"])
        fb_way = how(fb["type"])
        page = NewPage(
            row.step, row.round, fallback, "trigger", fb["type"], fb, fallback_for=row.target_id
        )
        if inc.drill and not fb.get("drill_safe"):
            await self.store.pages.add(
                iid,
                [replace(page, status="skipped", detail="drill: not drill-safe")],
                now,
            )
            await self.emit(
                iid,
                Notice(
                    f"{head} Its fallback {fallback} ({fb_label}) is not drill-safe,"
                    " so it was skipped.",
                    f"{plain}. This is a drill, so we didn't try {fb_way} instead.",
                ),
            )
            return
        added = await self.store.pages.add(iid, [page], now)
        if added:
            await self.emit(
                iid,
                Notice(
                    f"{head} Trying its fallback {fallback} ({fb_label}).",
                    f"{plain}, so we're trying {fb_way}.",
                ),
            )
        else:
            await self.emit(
                iid,
                Notice(
                    f"{head} Its fallback {fallback} ({fb_label}) was already paged.",
                    f"{plain}; they have already been contacted by {fb_way}.",
                ),
            )
