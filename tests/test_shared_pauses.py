"""Rate-limit pauses live in the database, so every instance honours them (issue 14
item 5): a paging provider's Retry-After seen by one instance holds back the pages
another instance sends to it, without spending their attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.clock import FakeClock
from bot.storage.pauses import RatePauses, SharedPauses
from tests.fakes.pagerduty import FakePagerDuty
from tests.support import ready_db
from tests.test_paging_harness import info, pd_target, routing, start_paging

T0 = datetime(2026, 3, 30, 8, 30, tzinfo=UTC)


async def test_a_providers_retry_after_seen_by_one_instance_holds_back_another(tmp_path):
    pd = await FakePagerDuty(responses=[429]).start()
    pd.retry_after = "60"
    config = routing({"pd": pd_target(pd)}, [{"targets": ["pd"]}])
    clock = FakeClock(T0)
    # Two instances on one database, driven round by round.
    first = await start_paging(tmp_path, config, clock=clock, worker=False, db_name="one.db")
    second = await start_paging(tmp_path, config, clock=clock, worker=False, db_name="one.db")
    try:
        await first.pager.start(info("INC-1"))
        await first.pager.flush()  # PagerDuty answers 429, Retry-After: 60
        assert len(pd.events()) == 1
        await second.pager.start(info("INC-2"))
        await second.pager.flush()
        assert len(pd.events()) == 1  # the other instance waits too
        (page,) = await second.pager.pages("INC-2")
        assert (page.status, page.attempts) == ("pending", 0)  # no attempt spent waiting
        await clock.advance(seconds=59)
        await second.pager.flush()
        assert len(pd.events()) == 1
        await clock.advance(seconds=2)
        await second.pager.flush()
        sent = sorted(e["dedup_key"] for e in pd.events()[1:])
        assert sent == ["INC-1", "INC-2"]  # both instances' pages, once each, after it
        statuses = [p.status for i in ("INC-1", "INC-2") for p in await first.pager.pages(i)]
        assert statuses == ["sent", "sent"]
    finally:
        await second.stop()
        await first.stop()
        await pd.close()


async def test_the_longer_pause_wins_and_each_instance_reads_the_others(tmp_path):
    db = await ready_db(tmp_path / "p.db")
    store = RatePauses(db)
    a, b = SharedPauses(store, "tips"), SharedPauses(store, "tips")
    a[("slack", "T1")] = T0 + timedelta(seconds=30)
    b[("slack", "T1")] = T0 + timedelta(seconds=10)  # a shorter wait learnt elsewhere
    await a.sync(T0)
    await b.sync(T0)
    assert b.get(("slack", "T1")) == T0 + timedelta(seconds=30)
    assert await store.until("tips:slack:T1", T0) == T0 + timedelta(seconds=30)
    await a.sync(T0 + timedelta(seconds=31))
    assert a.get(("slack", "T1")) is None  # over
    assert await store.forget_over(T0 + timedelta(seconds=31)) == 1
    await db.close()
