"""Daily tips on Teams and the web chat, feedback votes, "Quiz me on this", and local
trying-out mode (SECBOT_TIP_TEST_INTERVAL, /tip send-now), all over HTTP."""

from __future__ import annotations

import asyncio
import json

import pytest

from app import SERVICES
from tests.support import slack_handled, start_bot, stop_bot
from tests.tips_helpers import checked, eventually, library, tips_of, unpaced

TEAMS_CHANNEL = "19:chan@thread.tacv2"


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector, clock, request):
    env = {**slack_env, **getattr(request, "param", {})}
    running = await start_bot(
        env, clock=clock, slack=fake_slack, connector=fake_connector, content=library()
    )
    yield unpaced(running)
    await stop_bot(running)


def _posts_to(fake_connector, conversation: str) -> list[dict]:
    return [
        c.body
        for c in fake_connector.calls
        if c.method == "POST" and c.path.startswith(f"/v3/conversations/{conversation}/activities")
    ]


def _card(activity: dict) -> str:
    return json.dumps(activity["attachments"][0]["content"])


# --- Teams --------------------------------------------------------------------------------


async def test_teams_subscribe_then_proactive_tip_then_unsubscribe(bot, fake_connector, clock):
    status, _ = await bot.teams_say("tip subscribe 09:30 daily", mention=True)
    assert status == 202
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert "Next tip: Monday 23 March 2026 at 09:30 GMT" in sent[0]["summary"] + _card(sent[0])
    assert "tip unsubscribe" in _card(sent[0])
    assert "/tip" not in _card(sent[0])  # Teams has no slash commands

    fake_connector.calls.clear()
    await clock.advance(hours=1, minutes=31)
    # The proactive tip goes through the stored conversation reference to the channel.
    tips = await fake_connector.wait_for(lambda s: _posts_to(s, TEAMS_CHANNEL))
    assert "Security tip: Tip number" in _card(tips[0])
    assert "tip:vote" in _card(tips[0]) and "tip:quiz" in _card(tips[0])

    status, body = await bot.teams_click("tip:vote", "tip-t01|useful", aad="aad-user-7")
    assert status == 200 and "marked this tip as useful" in json.dumps(body)
    status, body = await bot.teams_click("tip:vote", "tip-t01|not-useful", aad="aad-user-7")
    assert "now find this tip not useful" in json.dumps(body)
    assert await tips_of(bot).store.votes.feedback() == {"tip-t01": (0, 1)}

    await bot.teams_say("tip unsubscribe", mention=True, aad="aad-user-2")
    await fake_connector.wait_for(lambda s: any("no longer" in _card(a) for a in s.sent()))
    fake_connector.calls.clear()
    await clock.advance(days=1)
    await checked(bot)
    assert _posts_to(fake_connector, TEAMS_CHANNEL) == []


async def test_teams_tip_hints_say_how_to_type_a_command_where_the_person_is(bot, fake_connector):
    """The tips use the one command hint (``bot.core.hints.typed``). "tip help" in a
    channel is answered privately, so in the person's personal chat (Teams has no private
    message in a channel), and names the channel's commands as they are typed there: with
    a mention of the bot. Typed in the personal chat, the hints are the bare words."""
    await bot.teams_say("tip help", mention=True)

    def personal(s) -> list[dict]:
        return [
            c.body for c in s.calls
            if c.method == "POST" and c.path.startswith("/v3/conversations/a:personal-")
        ]  # fmt: skip

    answer = (await fake_connector.wait_for(personal))[0]
    assert "“@secbot tip help” isn't a tip command" in answer["summary"]
    assert "@secbot tip subscribe [HH:MM] [days] [nation]" in _card(answer)
    assert "Example: @secbot tip subscribe 08:45 mon-fri scotland" in _card(answer)
    assert _posts_to(fake_connector, TEAMS_CHANNEL) == []  # nothing in the channel

    await bot.teams_say("tip subscribe 25:00", mention=True)
    refusal = (await fake_connector.wait_for(lambda s: personal(s)[1:]))[0]
    assert "For example: @secbot tip subscribe 08:45 mon-fri scotland" in _card(refusal)

    fake_connector.calls.clear()
    await bot.teams_say("tip help", personal=True, conversation="a:direct-9", aad="aad-user-9")
    direct = await fake_connector.wait_for(lambda s: _posts_to(s, "a:direct-9"))
    assert "tip subscribe [HH:MM] [days] [nation]" in _card(direct[0])
    assert "@secbot" not in _card(direct[0])


async def test_teams_removed_bot_marks_subscription_inactive(bot, fake_connector, clock):
    await bot.teams_say("tip subscribe", mention=True)
    await fake_connector.wait_for(lambda s: s.sent())
    fake_connector.fail_status[TEAMS_CHANNEL] = 403
    await clock.advance(hours=1, minutes=31)
    store = tips_of(bot).store
    async def stopped() -> bool:
        return not (await store.subscriptions.get(1)).active

    await eventually(stopped)
    assert (await store.subscriptions.get(1)).inactive_reason == "gone: teams 403"
    # Skipped from then on: the next working day does not even try.
    await checked(bot)
    tries = len(_posts_to(fake_connector, TEAMS_CHANNEL))
    await clock.advance(days=1)
    await checked(bot)
    assert len(_posts_to(fake_connector, TEAMS_CHANNEL)) == tries
    assert [d.status for d in await store.ledger.deliveries()] == ["gone"]


async def test_teams_server_error_is_retried_not_counted_as_sent(bot, fake_connector, clock):
    await bot.teams_say("tip subscribe", mention=True)
    await fake_connector.wait_for(lambda s: s.sent())
    fake_connector.fail_status[TEAMS_CHANNEL] = 502
    await clock.advance(hours=1, minutes=31)
    store = tips_of(bot).store
    # Refused, so certainly not shown: back to pending, safe to retry.
    async def refused() -> list:
        return [d for d in await store.ledger.deliveries() if d.status == "pending" and d.attempts]

    await eventually(refused)
    del fake_connector.fail_status[TEAMS_CHANNEL]
    fake_connector.calls.clear()
    await clock.advance(seconds=31)
    async def sent() -> bool:
        return (await store.ledger.deliveries())[0].status == "sent"

    await eventually(sent)
    assert len(_posts_to(fake_connector, TEAMS_CHANNEL)) == 1


# --- web chat -----------------------------------------------------------------------------


async def _bot_messages(bot, user="web-user-1", conversation="general") -> list[dict]:
    return [
        m
        for m in await bot.web_messages(user=user, conversation=conversation)
        if m["sender"] == "bot"
    ]


async def _tips_in(bot, **kw) -> list[dict]:
    return [m for m in await _bot_messages(bot, **kw) if m["text"].startswith("Security tip")]


async def test_web_chat_subscribe_and_receive_then_unsubscribe(bot, clock):
    status, body = await bot.web_send(text="tip subscribe 09:30 mon-fri")
    assert status == 200 and body["ok"]
    messages = await _bot_messages(bot, user="someone-else")  # public: everyone sees it
    assert "Next tip: Monday 23 March 2026 at 09:30 GMT" in messages[-1]["text"]

    await clock.advance(hours=1, minutes=31)
    tips = await eventually(lambda: _tips_in(bot))
    assert len(tips) == 1
    buttons = [b for blk in tips[0]["blocks"] if blk["type"] == "actions" for b in blk["buttons"]]
    assert [b["label"] for b in buttons] == ["Useful", "Not useful", "Quiz me on this"]

    # Subscribing again with another time says so in a sentence.
    await bot.web_send(text="tip subscribe 14:00 mon-fri")
    changed = (await _bot_messages(bot))[-1]["text"]
    assert changed.startswith(
        "Changed: this channel now gets its daily security tip at 14:00 Monday to Friday,"
    )
    assert "(Europe/London time). Next tip: " in changed

    await bot.web_send(text="tip unsubscribe", user="web-user-2")
    await clock.advance(days=1)
    await checked(bot)
    assert len(await _tips_in(bot)) == 1


async def test_web_chat_quiz_me_on_this_privately(bot):
    await bot.web_send(text="tip subscribe")
    await bot.web_send(action={"action_id": "tip:quiz", "value": "tip-t01"})
    mine = await _bot_messages(bot)
    question = mine[-1]
    assert question["private"] and "Question 1 about 2fa?" in question["text"]
    others = await _bot_messages(bot, user="web-user-2")
    assert all("Question 1" not in m["text"] for m in others)
    buttons = [b for blk in question["blocks"] if blk["type"] == "actions" for b in blk["buttons"]]
    assert [b["label"] for b in buttons] == ["A", "B", "C", "D"]
    assert {b["action_id"] for b in buttons} == {"tip:quizanswer"}
    right = next(b for b in buttons if b["value"] == "q-t01|0")
    wrong = next(b for b in buttons if b["value"] == "q-t01|2")

    await bot.web_send(action={"action_id": "tip:quizanswer", "value": right["value"]})
    answer = (await _bot_messages(bot))[-1]
    assert answer["private"] and answer["text"].startswith("Right!")
    assert "Because of reason 1." in answer["text"] and "Source: NCSC" in answer["text"]
    # The answer ends with a full stop, so it doesn't run into the explanation.
    assert "The answer is: Right answer 1. Because of reason 1." in answer["text"]
    await bot.web_send(action={"action_id": "tip:quizanswer", "value": wrong["value"]})
    answer = (await _bot_messages(bot))[-1]
    assert answer["text"].startswith("Not quite. The answer is: Right answer 1")


@pytest.mark.parametrize("bot", [{"SECBOT_TIP_TEST_INTERVAL": "60"}], indirect=True)
async def test_local_test_interval_fires_every_n_seconds_but_never_twice_in_one(bot, clock):
    await bot.web_send(text="tip subscribe")
    tips = await eventually(lambda: _tips_in(bot))  # straight away, in this minute's slot
    assert len(tips) == 1
    await clock.advance(seconds=30)
    await checked(bot)
    assert len(await _tips_in(bot)) == 1
    await clock.advance(seconds=31)
    await eventually(lambda: _tips_in_count(bot, 2))
    await clock.advance(seconds=60)
    await eventually(lambda: _tips_in_count(bot, 3))
    await checked(bot)
    assert len(await _tips_in(bot)) == 3
    ids = {m["text"] for m in await _tips_in(bot)}
    assert len(ids) == 3  # still the channel's rotation


async def _tips_in_count(bot, n: int) -> bool:
    return len(await _tips_in(bot)) >= n


async def test_web_admin_send_now_for_watching_a_tip_fire(bot):
    await bot.web_send(text="tip send-now", user="web-admin")
    assert "isn't subscribed" in (await _bot_messages(bot, user="web-admin"))[-1]["text"]
    await bot.web_send(text="tip subscribe", user="web-user-1")
    await bot.web_send(text="tip send-now", user="web-user-1")
    assert "Only secbot admins" in (await _bot_messages(bot))[-1]["text"]
    await bot.web_send(text="tip send-now", user="web-admin")
    assert len(await _tips_in(bot)) == 1
    reply = (await _bot_messages(bot, user="web-admin"))[-1]
    assert reply["private"] and "counts as today's tip" in reply["text"]


# --- feedback and quiz over Slack --------------------------------------------------------


async def test_votes_one_per_person_per_tip_per_channel_and_changeable(bot, fake_slack):
    clicks = [
        ("U1", "C1", "useful"),
        ("U1", "C1", "useful"),  # repeat: still one vote
        ("U2", "C1", "not-useful"),
        ("U1", "C1", "not-useful"),  # changed
        ("U1", "C2", "useful"),  # another channel counts separately
    ]
    for n, (user, channel, choice) in enumerate(clicks, start=1):
        # One at a time, as people click: each answered before the next.
        await bot.click("tip:vote", f"tip-t02|{choice}", user=user, channel=channel)
        await fake_slack.wait_for(lambda s, n=n: len(s.responses()) >= n or None)
    texts = [r["text"] for r in fake_slack.responses()]
    assert any("already marked" in t for t in texts)
    assert any("now find this tip not useful" in t for t in texts)
    assert all(r["response_type"] == "ephemeral" for r in fake_slack.responses())
    assert await tips_of(bot).store.votes.feedback() == {"tip-t02": (1, 2)}

    await bot.slash("/tip", "feedback", channel="C1", user="UADMIN")
    report = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "tip-t02" in r.get("text", "")]
    )
    assert "tip-t02 Tip number 2: 1 useful, 2 not useful" in report[0]["text"]


async def test_feedback_on_a_years_tips_shows_every_tip(running, fake_slack, content_library):
    """``/tip feedback`` once people have voted on many of the shipped tips: each tip's
    line is there, in sections Slack shows whole (3,000 characters each)."""
    voted = sorted(content_library.tips)[:60]
    await asyncio.gather(
        *(running.click("tip:vote", f"{t}|useful", user="U1", channel="C1") for t in voted)
    )
    await slack_handled(running)
    await running.slash("/tip", "feedback", channel="C1", user="UADMIN")
    (report,) = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Tip feedback" in json.dumps(r)]
    )
    sections = [b["text"]["text"] for b in report["blocks"] if b["type"] == "section"]
    assert all(len(s) <= 3000 and not s.endswith("…") for s in sections)
    shown = "\n".join(sections)
    for tip_id in voted:
        assert f"{tip_id} " in shown and shown.count(": 1 useful, 0 not useful") == len(voted)


async def test_quiz_me_picks_an_item_sharing_a_topic_or_says_none(bot, fake_slack):
    await bot.click("tip:quiz", "tip-t02", user="U5", channel="C1")  # phishing -> q-t02
    await bot.click("tip:quiz", "tip-t04", user="U5", channel="C1")  # leavers -> none
    await fake_slack.wait_for(lambda s: len(s.responses()) >= 2 or None)
    texts = [r["text"] for r in fake_slack.responses()]
    assert any("Question 2 about phishing?" in t for t in texts)
    assert any("don't have a question on this tip yet" in t for t in texts)
    await bot.click("tip:quizanswer", "q-t02|0", user="U5", channel="C1")
    await bot.click("tip:quizanswer", "q-t02|3", user="U6", channel="C1")
    await fake_slack.wait_for(lambda s: len(s.responses()) >= 4 or None)
    texts = [r["text"] for r in fake_slack.responses()[2:]]
    assert sorted(t.split()[0] for t in texts) == ["Not", "Right!"]
    assert all("Because of reason 2." in t for t in texts)


async def test_shipped_content_tip_and_quiz_me(running, fake_slack, content_library):
    await running.slash("/tip", "", channel="C1", user="U1")
    reply = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if r.get("text", "").startswith("Security tip")]
    )
    assert reply[0]["response_type"] == "ephemeral"
    tip = next(
        t
        for t in content_library.tips.values()
        if any(set(t.topics) & set(i.topics) for i in content_library.quiz_items.values())
    )
    await running.click("tip:quiz", tip.id, user="U1", channel="C1")
    question = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Quick question" in r.get("text", "")]
    )
    item_id = next(
        el["value"].split("|")[0]
        for blk in question[0]["blocks"]
        if blk["type"] == "actions"
        for el in blk["elements"]
    )
    assert set(content_library.item(item_id).topics) & set(tip.topics)


async def test_teams_posts_to_one_conversation_are_paced_not_only_on_429(
    bot, fake_connector, clock
):
    """Teams limits each conversation (and each tenant): a second tip to the same
    conversation waits its turn instead of waiting for a 429. The gap is shortened here
    to keep the test quick; the real one is 2 seconds (see content/tips/pacing.py)."""
    delivery = tips_of(bot)
    delivery.fanout.pacer.per_conversation["teams"] = 0.4
    await bot.teams_say("tip subscribe", mention=True)
    await fake_connector.wait_for(lambda s: s.sent())
    transport = bot.app[SERVICES].transports["teams"]
    real_post = transport.post
    loop = asyncio.get_running_loop()
    posted_at: list[float] = []

    async def timed(place, msg, **kw):
        posted_at.append(loop.time())
        return await real_post(place, msg)

    transport.post = timed
    await bot.teams_say("tip send-now", mention=True, aad="aad-admin")
    await bot.teams_say("tip send-now", mention=True, aad="aad-admin")
    await eventually(lambda: len(_posts_to(fake_connector, TEAMS_CHANNEL)) >= 3)
    assert len(posted_at) == 2
    # A lower bound only, with room for the first post starting late under load (its
    # slot was taken on time; unpaced, the two would go out together).
    assert posted_at[1] - posted_at[0] >= 0.4 - 0.1
    assert [d.status for d in await delivery.store.ledger.deliveries()] == ["sent", "sent"]


async def test_quiz_me_on_this_asks_about_the_tips_own_topic(slack_env, fake_slack, clock):
    """Of the items sharing the tip's topic, the one whose own main topic is the tip's
    and that shares most of its topics is asked: never a question that only touches it."""
    from content.library.loader import ContentLibrary
    from content.library.models import QuizItem, Tip
    from tests.tips_helpers import make_item, make_tip

    def with_topics(model, topics: list[str]):
        return type(model).model_validate({**model.model_dump(), "topics": topics})

    tip: Tip = with_topics(make_tip(1, "2fa"), ["2fa", "phishing"])
    items: list[QuizItem] = [
        with_topics(make_item(1, "phishing"), ["phishing", "2fa"]),  # about phishing
        with_topics(make_item(2, "2fa"), ["2fa"]),
        with_topics(make_item(3, "2fa and phishing"), ["2fa", "phishing"]),  # the tip's own
        with_topics(make_item(4, "passwords"), ["passwords"]),
    ]
    content = ContentLibrary({i.id: i for i in items}, {tip.id: tip})
    running = await start_bot(slack_env, clock=clock, slack=fake_slack, content=content)
    try:
        for user in ("web-user-1", "web-user-2", "web-admin"):
            await running.web_send(
                user=user, action={"action_id": "tip:quiz", "value": tip.id}
            )
            question = (await _bot_messages(running, user=user))[-1]
            assert question["private"]
            assert "Question 3 about 2fa and phishing?" in question["text"]
            buttons = [
                b for blk in question["blocks"] if blk["type"] == "actions" for b in blk["buttons"]
            ]
            # Each letter is spoken as its answer.
            assert [b["spoken"][:3] for b in buttons] == ["A: ", "B: ", "C: ", "D: "]
            assert any(b["spoken"].endswith("Right answer 3") for b in buttons)
    finally:
        await stop_bot(running)
