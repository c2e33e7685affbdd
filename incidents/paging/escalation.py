"""Escalation: run each step of the snapshotted chain at its due time, until acknowledged.

The pattern is Grafana OnCall's. When paging starts the chain is copied into the
incident's row; ``paging_jobs`` holds "run step s of round r at due_at". The worker
fires due jobs; before acting it takes the incident's lock, re-reads the job and
the incident, and does nothing if the job already ran (duplicate or stale) or the
incident was acknowledged or resolved. The step's own transaction checks again: the
job must still be pending and the incident, read under a row lock, still active
(``PagingStore.finish_job``), so another instance's acknowledgement also stops it.
Firing a job writes its pages to the outbox,
marks it done and schedules the next job in one transaction, so a process killed
at any point resumes with the next step firing once.

When a raised severity routes the incident to another team, that team's chain
replaces the snapshot with its steps numbered after the old ones (``offset``): a
job's place in the current chain is ``job.step - offset``, and jobs of the old
chain no longer match it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.storage.leases import RENEW_SECONDS, new_instance
from bot.storage.sql import DB_ERRORS
from bot.workers import Worker
from incidents.paging.model import Notice
from incidents.paging.outbox import Emit, Outbox
from incidents.paging.store import JobRow, NewPage, PagingStore
from incidents.paging.wording import hows

if TYPE_CHECKING:
    from incidents.paging.providers import ProviderContext

log = logging.getLogger(__name__)

# Seconds: look at the database at least this often, even with nothing due. Short,
# because another instance may add work (or die holding some) without waking this one.
IDLE_POLL = 5.0
RETRY_AFTER_FAILURE = 5.0  # seconds after a round that failed


class Engine:
    def __init__(
        self,
        store: PagingStore,
        outbox: Outbox,
        clock: Any,
        emit: Emit,
        ctx: ProviderContext,
        owner: str | None = None,
    ):
        self.store = store
        # This instance's name on the jobs and pages it claims (bot/storage/leases.py).
        self.owner = owner or new_instance()
        # Tells the other instances that jobs or pages were written (bot/wakeups.py).
        self.announce: Callable[[], None] | None = None
        self._renewed: Any = None
        self.outbox = outbox
        self.clock = clock
        self.emit = emit
        self.ctx = ctx
        self._locks: dict[str, asyncio.Lock] = {}
        self._inflight: set[asyncio.Task] = set()
        self._ticking = asyncio.Lock()
        # The app's one worker loop (bot.workers): a round fires due jobs and starts due
        # pages, then sleeps until the next is due (at most IDLE_POLL) or a wake.
        self.worker = Worker(
            "secbot-paging-worker",
            self.round,
            every=IDLE_POLL,
            clock=clock,
            back_off=(RETRY_AFTER_FAILURE,),
            drain=self.stop,
        )

    def lock(self, incident_id: str) -> asyncio.Lock:
        if incident_id not in self._locks:
            self._locks[incident_id] = asyncio.Lock()
        return self._locks[incident_id]

    def forget(self, incident_id: str) -> None:
        lock = self._locks.get(incident_id)
        if lock is not None and not lock.locked():
            del self._locks[incident_id]

    def wake(self) -> None:
        """Something new is due (a started incident, a retry, a fallback): look now, and
        let the other instances know."""
        self.worker.wake()
        if self.announce is not None:
            self.announce()

    # --- jobs ---------------------------------------------------------------------------

    async def run_job(self, job: JobRow) -> bool:
        """Fire one due job; False if it had already run or been cancelled."""
        events: list[Notice] = []
        async with self.lock(job.incident_id):
            current = await self.store.job(job.id)
            if current is None or current.status != "pending":
                return False  # a duplicate or stale run: it has had its effect already
            inc = await self.store.incident(job.incident_id)
            now = self.clock.now()
            if inc is None or inc.state != "active":
                return await self.store.finish_job(current, now, status="cancelled")
            chain = inc.chain
            steps: list[dict] = chain["steps"]
            rounds = int(chain.get("repeat", 0)) + 1
            offset = int(chain.get("offset", 0))
            number = job.step - offset  # 1-based place in the current chain
            if number == len(steps) + 1:  # the end marker, after the last step's wait
                if not await self.store.finish_job(current, now, exhausted=True):
                    return False
                events.append(
                    Notice(
                        "Escalation finished: nobody acknowledged after "
                        + ("the whole chain." if rounds == 1 else f"{rounds} rounds of the chain.")
                        + " No more pages will be sent unless paging is started again.",
                        "Nobody from the on-call team has acknowledged, and every way of"
                        " reaching them has been tried, so no more pages will be sent."
                        " Phone them, or ask an admin for help.",
                    )
                )
            elif not (1 <= number <= len(steps) and 1 <= job.round <= rounds):
                return await self.store.finish_job(current, now, status="cancelled")
            else:
                step = steps[number - 1]
                pages: list[NewPage] = []
                paged: list[str] = []
                skipped: list[str] = []
                paged_kinds: list[str] = []
                skipped_kinds: list[str] = []
                for tid in step["targets"]:
                    target = chain["targets"][tid]
                    label = self.outbox.label(target["type"])
                    if inc.drill and not target.get("drill_safe"):
                        pages.append(
                            NewPage(
                                job.step,
                                job.round,
                                tid,
                                "trigger",
                                target["type"],
                                target,
                                status="skipped",
                                detail="drill: not drill-safe",
                            )
                        )
                        skipped.append(f"{tid} ({label})")
                        skipped_kinds.append(target["type"])
                    else:
                        pages.append(
                            NewPage(job.step, job.round, tid, "trigger", target["type"], target)
                        )
                        paged.append(f"{tid} ({label})")
                        paged_kinds.append(target["type"])
                wait = timedelta(minutes=float(step.get("wait_minutes", 0)))
                if number < len(steps):
                    nxt = (job.step + 1, job.round, now + wait)
                elif job.round < rounds:
                    nxt = (offset + 1, job.round + 1, now + wait)
                else:
                    nxt = (offset + len(steps) + 1, job.round, now + wait)
                if not await self.store.finish_job(current, now, pages, nxt):
                    return False
                where = f"Escalation step {number} of {len(steps)}"
                if offset:
                    where += f" for team {chain['team']}"
                if rounds > 1:
                    where += f" (round {job.round} of {rounds})"
                text = f"{where}: paging {', '.join(paged)}." if paged else f"{where}:"
                if skipped:
                    text += f" Drill, so not paging {', '.join(skipped)} (not drill-safe)."
                if not paged and not skipped:
                    text += " nothing to page."
                team_words = f"team {chain['team']}" if offset else "the on-call team"
                plain = f"Paging {team_words} (step {number} of {len(steps)})"
                plain += f" by {hows(paged_kinds)}." if paged_kinds else "."
                if skipped_kinds:
                    plain += f" This is a drill, so not by {hows(skipped_kinds)}."
                events.append(Notice(text, plain))
        for notice in events:
            await self.emit(job.incident_id, notice)
        self.wake()
        return True

    # --- the loop -----------------------------------------------------------------------

    async def tick(self) -> int:
        """Fire due jobs and start sending due pages; returns how much it started.

        One tick at a time in this instance: a job the worker's tick has claimed is
        skipped by any other claim (its lease), so a second caller (``flush``) waits
        for that tick to finish instead of passing the job by."""
        async with self._ticking:
            return await self._tick()

    async def _tick(self) -> int:
        now = self.clock.now()
        done = 0
        await self._renew(now)
        await self.outbox.pauses.sync(now)  # providers' pauses, another instance's too
        for job in await self.store.claim_jobs(now, self.owner):
            done += await self.run_job(job)
        for row in await self.store.pages.claim_due(self.clock.now(), self.owner):
            task = asyncio.create_task(self._deliver(row))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            done += 1
        return done

    async def _deliver(self, row) -> None:
        try:
            await self.outbox.deliver(row)
        except sqlite3.ProgrammingError:
            pass  # the database closed under us at shutdown; the row is resent at start-up
        except Exception:
            log.exception("paging: recording page %s failed", row.id)
        finally:
            self.worker.wake()  # this instance's next round (a retry, a fallback)

    async def _renew(self, now: Any) -> None:
        """Keep this instance's leases on the pages it is sending (every RENEW_SECONDS)."""
        last = self._renewed
        if self._inflight and (
            last is None or not 0 <= (now - last).total_seconds() < RENEW_SECONDS
        ):
            await self.store.pages.renew(now, self.owner)
            self._renewed = now

    async def _delay(self) -> float:
        """Until the next job or page is due, or a dead instance's lease on one runs out
        (at most IDLE_POLL; every RENEW_SECONDS while sends are in flight)."""
        times = [await self.store.next_due(), await self.store.held_until()]
        wait = IDLE_POLL if not self._inflight else RENEW_SECONDS
        for due in times:
            if due is not None:
                wait = min(wait, max(0.0, (due - self.clock.now()).total_seconds()))
        return wait

    async def round(self) -> float:
        """One round of the worker: what is due now; returns the seconds to the next."""
        await self.tick()
        return await self._delay()

    async def flush(self) -> None:
        """Do everything due now and wait for the sends to finish.

        The worker does the same on its own; tests and admin tools call this to know
        that nothing due is left undone (e.g. to assert that a step has *not* fired).
        """
        for _ in range(100):
            started = await self.tick()
            if self._inflight:
                await asyncio.gather(*list(self._inflight), return_exceptions=True)
                continue
            if not started:
                return

    async def stop(self) -> None:
        for task in list(self._inflight):
            task.cancel()
        if self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
        # A clean stop: the pages cut off are due again at once, for any instance.
        with contextlib.suppress(*DB_ERRORS):
            await self.store.pages.release(self.owner)
        await self.ctx.close()
