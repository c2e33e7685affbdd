"""Races closed by storage v2 (issue 14, item 3), each provoked where it can be:

- two people acknowledging at once: the first wins, exactly once, the other is told
  who did, and paging's record names the same person;
- the last two contain steps done at once: the status moves on once;
- a step's job read before an acknowledgement, run after it: it pages nobody;
- two instances claiming the page outbox at once: each page goes to exactly one.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.core.model import Actor
from incidents.paging.store import NewPage, PagingStore
from tests import incident_support
from tests.incident_support import buttons, desk, pager, routing_env
from tests.support import ready_db, start_bot, stop_bot
from tests.test_paging_harness import info, pd_target, routing, start_paging

fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack
fake_connector = incident_support.fake_connector

REPORTER, TEAM, ADMIN = "web-reporter", "web-team", "web-admin"


@pytest.fixture
async def bot(tmp_path, fake_pd, fake_slack, fake_connector, content_library):
    env = {
        "SECBOT_DB": str(tmp_path / "secbot.db"),
        "SECBOT_MODE": "development",  # the web chat with no sign-in
        "SECBOT_ADMINS": f"web:{ADMIN}",
        **routing_env(tmp_path, fake_pd.url),
    }
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)


async def send(bot, user: str, **kw) -> None:
    status, body = await bot.web_send(user=user, **kw)
    assert status == 200 and body["ok"], body


async def triaged(bot) -> tuple[str, dict]:
    """A web chat incident through triage: (its id, its card)."""
    await send(bot, REPORTER, text="compromised x @dept")
    card = (await bot.web_messages(user=REPORTER))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in ("symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|no",
                   "personal|no"):  # fmt: skip
        action = {"action_id": "incident:triage", "value": f"{incident_id}|{answer}",
                  "message_id": str(card["id"])}  # fmt: skip
        await send(bot, REPORTER, action=action)
    assert (await desk(bot).store.get(incident_id)).triage_step == "done"
    return incident_id, card


async def test_two_acknowledgements_at_once_count_once(bot, fake_pd):
    incident_id, card = await triaged(bot)
    await fake_pd.wait_for(lambda s: s.events("trigger"))
    click = {"action_id": "incident:ack", "value": incident_id, "message_id": str(card["id"])}
    await asyncio.gather(
        send(bot, TEAM, action=click),
        send(bot, ADMIN, text=f"compromised ack {incident_id}"),
    )
    await pager(bot).flush()
    inc = await desk(bot).store.get(incident_id)
    assert inc.acked_by in (f"web:{TEAM}", f"web:{ADMIN}")
    # Paging's record names the same person, and PagerDuty heard it once.
    assert await pager(bot).acknowledged_by(incident_id) == inc.acked_by
    assert len(fake_pd.events("acknowledge")) == 1
    events = await desk(bot).store.timeline.events(incident_id)
    assert [e.actor for e in events if e.kind == "ack"] == [inc.acked_by]
    # The other one is told who was first, privately.
    other = ADMIN if inc.acked_by == f"web:{TEAM}" else TEAM
    told = [m for m in await bot.web_messages(user=other) if "already acknowledged" in m["text"]]
    assert told and told[-1]["private"]
    assert f"already acknowledged by {inc.acked_by_name}" in told[-1]["text"]


async def test_the_last_two_contain_steps_done_at_once_move_the_status_once(bot):
    incident_id, _ = await triaged(bot)
    store = desk(bot).store
    contain = [s for s in await store.steps.all(incident_id) if s.phase == "contain"]
    assert len(contain) >= 2
    now, someone = datetime.now(UTC), Actor("web", REPORTER, "Rosa Reporter")
    for step in contain[:-2]:  # all but two resolved beforehand
        assert await store.steps.resolve(incident_id, step.step_id, "done", someone, now)
    checklist_id = (await store.get(incident_id)).checklist_id
    await asyncio.gather(
        *(
            send(bot, REPORTER, action={"action_id": "incident:done",
                                        "value": f"{incident_id}|{step.step_id}",
                                        "message_id": checklist_id})
            for step in contain[-2:]
        )
    )  # fmt: skip
    inc = await store.get(incident_id)
    assert inc.status == "recovering" and inc.contained_at is not None
    events = await store.timeline.events(incident_id)
    assert [e.text for e in events if e.kind == "status"] == ["Status: recovering"]
    done = [e.text for e in events if e.kind == "step" and e.text.startswith("Done:")]
    assert len(done) == 2


async def test_a_step_read_before_an_acknowledgement_pages_nobody(tmp_path, pd):
    h = await start_paging(
        tmp_path, routing({"pd": pd_target(pd)}, [{"targets": ["pd"]}]), worker=False
    )
    try:
        await h.pager.start(info())
        (job,) = await h.pager.store.due_jobs(h.clock.now())  # the worker has read it...
        assert await h.pager.acknowledge("INC-1", "slack:UDUTY")  # ...then someone acks
        assert await h.pager.engine.run_job(job) is False
        assert await h.pager.pages("INC-1") == []
        await h.pager.flush()
        assert pd.events() == []
    finally:
        await h.stop()


async def test_two_instances_claiming_the_outbox_never_share_a_page(tmp_path):
    path = tmp_path / "shared.db"
    first, second = await ready_db(path), await ready_db(path)  # two engines, one database
    try:
        now = datetime.now(UTC)
        store = PagingStore(first)
        await store.create_incident("INC-1", {}, "team", {"steps": []}, False, now)
        pages = [NewPage(1, 1, f"t{n}", "trigger", "webhook", {"n": n}) for n in range(60)]
        assert await store.pages.add("INC-1", pages, now) == 60
        assert await PagingStore(second).pages.all("INC-1")  # both connections ready

        async def claim_all(db) -> list[int]:
            """One instance claiming in small batches on its own connections."""
            got: list[int] = []
            while batch := await PagingStore(db).pages.claim_due(now, str(id(db)), limit=7):
                got += [p.id for p in batch]
            return got

        a, b = await asyncio.gather(claim_all(first), claim_all(second))
        assert not set(a) & set(b)
        assert sorted(a + b) == sorted(p.id for p in await store.pages.all("INC-1"))
        claimed = await store.pages.all("INC-1")
        assert {(p.status, p.attempts) for p in claimed} == {("sending", 1)}
    finally:
        await first.close()
        await second.close()
