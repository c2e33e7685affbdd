"""Deliveries in one conversation (Slack, web chat) are handled in the order they arrived; other
conversations' deliveries are handled meanwhile (bot/in_order.py, the Slack intake).

Driven over loopback HTTP: signed requests to /slack/events, kept in the inbox,
acknowledged, then handled by the intake. Runs on SQLite and on PostgreSQL
(SECBOT_TEST_DATABASE=postgres)."""

from __future__ import annotations

import asyncio

import pytest

from app import SERVICES
from bot.core import Turn
from tests.quiz_support import WAIT, latest_post_id, post_choice, start_quiz_bot, store_of
from tests.support import eventually, stop_bot

N = 6


def _recorder(running):
    """A hidden command, ``/secbot order <n>``, that logs when it starts and ends and, in
    between, waits until the test lets that delivery go; it answers after it ends."""
    log: list[tuple[str, str, str]] = []
    gates: dict[tuple[str, str], asyncio.Event] = {}

    def gate(channel: str, n: str) -> asyncio.Event:
        return gates.setdefault((channel, n), asyncio.Event())

    async def order(turn: Turn) -> None:
        channel, n = turn.place.channel, turn.args.strip()
        log.append(("start", channel, n))
        await gate(channel, n).wait()
        log.append(("end", channel, n))
        await turn.reply(f"done {n}", private=True)

    running.app[SERVICES].registry.add_command("order", "Ordering probe", order, hidden=True)
    return log, gate


def _of(log, channel):
    return [(what, n) for what, ch, n in log if ch == channel]


async def test_one_channel_in_arrival_order_while_another_runs_alongside(running):
    log, gate = _recorder(running)
    for n in range(1, N + 1):
        r = await running.slash("/secbot", f"order {n}", channel="C1", user=f"U{n}")
        assert r.status == 200
    # The other channel's deliveries are free to finish at once.
    for n in range(1, 4):
        gate("C2", str(n)).set()
        r = await running.slash("/secbot", f"order {n}", channel="C2", user=f"U{n}")
        assert r.status == 200

    # C2 is handled, in order, while C1's first delivery is still in hand: C1's others
    # wait their turn rather than start.
    await eventually(lambda: len(_of(log, "C2")) == 6)
    assert _of(log, "C2") == [("start", "1"), ("end", "1"), ("start", "2"), ("end", "2"),
                              ("start", "3"), ("end", "3")]  # fmt: skip
    assert _of(log, "C1") == [("start", "1")]

    # Let C1's go one at a time, out of order: each starts only after the one before it
    # ended, whichever the test released first.
    for n in (3, 2, 1):
        gate("C1", str(n)).set()
    await eventually(lambda: len(_of(log, "C1")) == 7)
    expected = [(what, str(n)) for n in range(1, N + 1) for what in ("start", "end")]
    assert _of(log, "C1") == expected[:7]  # ... and the fourth has started, and waits
    for n in range(4, N + 1):
        gate("C1", str(n)).set()
    await eventually(lambda: len(_of(log, "C1")) == 2 * N)
    assert _of(log, "C1") == expected
    # Every delivery was answered once, and nothing is left kept.
    await eventually(lambda: len(running.slack.responses()) == N + 3)
    inbox = running.app[SERVICES].slack_intake.inbox
    await eventually(lambda: _empty(inbox))


async def _empty(inbox) -> bool:
    return not await inbox.pending("slack")


@pytest.fixture
async def quiz_bot(slack_env, fake_slack, fake_connector):
    b = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    yield b
    await stop_bot(b)


async def test_a_double_click_keeps_the_first_choice(quiz_bot, fake_slack):
    """Two clicks by one person on one question, the second sent as soon as the first
    was acknowledged, many times over: the first is always the answer kept (clicks are
    decided in the order they arrived), the second is told it was already answered."""
    await quiz_bot.slash("/quiz", "", user="UPOSTER", channel="C1")
    await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"), timeout=WAIT)
    post_id = await latest_post_id(quiz_bot)
    wrong = await post_choice(quiz_bot, post_id, right=False)
    right = await post_choice(quiz_bot, post_id, right=True)
    people = [f"U{n}" for n in range(20)]
    for n, user in enumerate(people):
        first, second = (wrong, right) if n % 2 else (right, wrong)
        for value in (first, second):
            r = await quiz_bot.click("quiz:answer", value, user=user, channel="C1")
            assert r.status == 200
    store = store_of(quiz_bot)

    async def all_recorded():
        rows = await store.stats.answers(post_id=post_id)
        return rows if len(rows) == len(people) else None

    rows = await eventually(all_recorded)
    kept = {r["user_key"]: bool(r["correct"]) for r in rows}
    assert kept == {f"slack:{u}": n % 2 == 0 for n, u in enumerate(people)}
    await eventually(lambda: len(fake_slack.responses()) >= 2 * len(people))
    texts = [m.get("text", "") for m in fake_slack.responses()]
    assert len([t for t in texts if "already answered" in t]) == len(people), texts


async def test_web_chat_one_conversation_in_order_while_another_runs(running):
    """The web chat handles while the request is open; two messages in one conversation
    still take turns, and another conversation's are handled meanwhile."""
    log, gate = _recorder(running)
    first = asyncio.create_task(running.web_send(text="order 1", conversation="alpha"))
    await eventually(lambda: ("start", "alpha", "1") in log)
    second = asyncio.create_task(running.web_send(text="order 2", conversation="alpha"))
    for n in range(1, 4):
        gate("beta", str(n)).set()
        status, _ = await running.web_send(text=f"order {n}", conversation="beta")
        assert status == 200
    assert len(_of(log, "beta")) == 6
    assert _of(log, "alpha") == [("start", "1")]  # the second waits its turn
    gate("alpha", "2").set()
    gate("alpha", "1").set()
    assert (await first)[0] == 200 and (await second)[0] == 200
    assert _of(log, "alpha") == [("start", "1"), ("end", "1"), ("start", "2"), ("end", "2")]
