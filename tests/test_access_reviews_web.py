"""Access reviews, leavers and the trained-access check in the local web chat, end to
end over HTTP, on the real register: an owner is sent who has access with Keep / Remove,
a second answer records nothing, the review completes and is attested, an unanswered one
is reminded once per working day (across a restart) and shows as overdue; a leaver's
accounts each get a removal task the owner confirms; the check names who is untrained."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.core.actions import button_value
from bot.core.clock import FakeClock
from bot.core.model import Actor
from incidents.register.model import Access, Details, Person
from incidents.reviews.store import overdue_reviews
from tests.support import eventually, stop_bot
from tests.training_support import (
    register_of,
    reviews_of,
    start_people_bot,
    web_bot_messages,
    web_pass_exam,
    web_say,
)

TENANT = "web:local"
OPENS = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)  # Wednesday, before working hours
ADMIN = Actor("web", "web-admin", "Ada Admin")


def press_x() -> Details:
    return Details(
        platform="x",
        handle="@DeptPress",
        team="Press office",
        owner=Person("Olu Owner", "web-b"),
        access=(
            Access(Person("Ann Editor", "web-c"), "admin"),
            Access(Person("Bea Agency", "", "bea@agency.example"), "editor"),
        ),
    )


def news_fb() -> Details:
    return Details(
        platform="facebook",
        handle="DeptNews",
        owner=Person("Eve Owner", "web-e"),
        access=(Access(Person("Ann Editor", "web-c"), "editor"),),
    )


def old_yt() -> Details:
    return Details(
        platform="youtube",
        handle="DeptVideo",
        owner=Person("Fay Owner", "web-f"),
        access=(Access(Person("Gus Editor", "web-g"), "manager"),),
    )


def review_messages(messages: list[dict]) -> list[dict]:
    return [m for m in messages if "please check who can get into" in m["text"]]


async def click(bot, user: str, action_id: str, value: str, message_id=None) -> dict:
    """A button; without ``message_id``, one forged from another conversation."""
    action = {"action_id": action_id, "value": value}
    if message_id is not None:
        action["message_id"] = str(message_id)
    status, body = await bot.web_send(action=action, user=user, conversation="dm")
    assert status == 200 and body["ok"], body
    messages = await web_bot_messages(bot, user)
    return next((m for m in messages if m["id"] == message_id), messages[-1])


async def newest(bot, user: str) -> dict:
    return (await web_bot_messages(bot, user))[-1]


async def test_reviews_leavers_and_the_trained_check(slack_env, fake_slack, fake_connector):
    clock = FakeClock(OPENS)
    bot = await start_people_bot(slack_env, clock=clock, slack=fake_slack, connector=fake_connector)
    try:
        register = register_of(bot)
        press = await register.add(TENANT, press_x(), by=ADMIN, now=OPENS)
        news = await register.add(TENANT, news_fb(), by=ADMIN, now=OPENS)
        # An admin opens this quarter's reviews (before 10:00 the worker leaves them).
        opened = await web_say(bot, "access review", "web-admin")
        assert "Opened 2 access reviews" in opened["text"]
        again = await web_say(bot, "access review", "web-admin")
        assert "has its review for this period already" in again["text"]

        sent = review_messages(await web_bot_messages(bot, "web-b"))
        assert len(sent) == 1
        msg = sent[0]
        assert "X @DeptPress" in msg["text"] and "Ann Editor (admin)" in msg["text"]
        assert "Due by Wednesday 16 December 2026" in msg["text"]  # ten working days
        (review_id,) = [
            r.id
            for r in await reviews_of(bot).store.open_reviews(TENANT)
            if r.account_id == press.id
        ]

        # Someone else can't answer it, and the answer is one decision per person.
        refused = await click(bot, "web-c", "access:keep", button_value(review_id, 0))
        assert "Only the account's owner and secbot admins" in refused["text"]
        kept = await click(bot, "web-b", "access:keep", button_value(review_id, 0), msg["id"])
        assert "Ann Editor (admin): keep, by Web User" in kept["text"]
        await click(bot, "web-b", "access:remove", button_value(review_id, 0), msg["id"])
        assert "already marked keep" in (await newest(bot, "web-b"))["text"]
        decisions = await reviews_of(bot).store.decisions(review_id)
        assert [(d.person_name, d.decision) for d in decisions.values()] == [("Ann Editor", "keep")]
        done = await click(bot, "web-b", "access:remove", button_value(review_id, 1), msg["id"])
        assert "complete: 1 kept, 1 removed. Attested by Web User" in done["text"]
        after = await register.get(TENANT, press.id)
        assert [a.person.name for a in after.access] == ["Ann Editor"]
        assert after.details.last_reviewed == date(2026, 12, 2)

        # The Facebook review is left unanswered: reminded the next working morning, once.
        # Registered last quarter, and added after the admin asked: the worker opens its
        # review itself, in working hours (one registered this quarter waits for the next).
        await register.add(TENANT, old_yt(), by=ADMIN, now=datetime(2026, 9, 1, tzinfo=UTC))
        await clock.set(datetime(2026, 12, 3, 10, 0, tzinfo=UTC))
        await eventually(lambda: _reminders(bot, "web-e", 1))
        await eventually(lambda: _opened(bot, "web-f"))
    finally:
        await stop_bot(bot)

    late = FakeClock(datetime(2026, 12, 17, 11, 0, tzinfo=UTC))
    bot = await start_people_bot(slack_env, clock=late, slack=fake_slack, connector=fake_connector)
    try:
        register = register_of(bot)
        await eventually(lambda: _reminders(bot, "web-e", 2))  # one more, not one a day missed
        summary = await web_say(bot, "access", "web-admin")
        assert "2 access reviews open, 1 overdue." in summary["text"]
        assert "Facebook DeptNews: OVERDUE by 16 Dec 2026, owner Eve Owner" in summary["text"]
        overdue = await overdue_reviews(reviews_of(bot).store.db, TENANT, date(2026, 12, 17))
        assert [r.account_id for r in overdue] == [news.id]
        refused = await web_say(bot, "access", "web-user-1")
        assert "Only secbot admins can see and start access reviews" in refused["text"]

        # A leaver: Ann can reach both accounts; each owner is asked to confirm.
        picker = await web_say(bot, "leaver", "web-admin")
        assert "Who is leaving?" in picker["text"]
        unknown = await web_say(bot, "leaver @nobody", "web-admin")  # no name to look up
        assert unknown["text"].startswith("This person isn't named on any registered account")
        listed = await web_say(bot, "leaver @web-c", "web-admin")
        assert "Web User can reach 2 registered accounts" in listed["text"]
        assert "X @DeptPress: waiting for Olu Owner to confirm" in listed["text"]
        tasks = [m for m in await web_bot_messages(bot, "web-b") if "is leaving" in m["text"]]
        assert len(tasks) == 1
        await web_say(bot, "leaver @web-c", "web-admin")  # again: no second message
        assert (
            len([m for m in await web_bot_messages(bot, "web-b") if "is leaving" in m["text"]]) == 1
        )
        task_id = int(_value(tasks[0], "leaver:confirm"))
        nope = await click(bot, "web-e", "leaver:confirm", str(task_id))
        assert "Only the account's owner and secbot admins can confirm" in nope["text"]
        confirmed = await click(bot, "web-b", "leaver:confirm", str(task_id), tasks[0]["id"])
        assert "removed from X @DeptPress: confirmed by Web User" in confirmed["text"]
        press_now = await register.get(TENANT, press.id)
        assert press_now.access == ()
        assert len(await register.for_person(TENANT, "web-c")) == 1  # Facebook still waits
        summary = await web_say(bot, "access", "web-admin")
        assert "Leavers' removals not yet confirmed: 1." in summary["text"]
        assert (
            "Web User from Facebook DeptNews: waiting for Eve Owner since 17 Dec 2026"
            in (summary["text"])
        )

        # The picker: choosing Gus lists the YouTube account and asks Fay to confirm.
        status, body = await bot.web_send(
            action={"action_id": "leaver:pick", "value": "", "message_id": str(picker["id"]),
                    "form": {"person": "web-g"}},
            user="web-admin", conversation="dm",
        )  # fmt: skip
        assert status == 200 and body["ok"], body
        picked = await newest(bot, "web-admin")
        assert "Web User can reach 1 registered account" in picked["text"]
        assert "YouTube DeptVideo: waiting for Fay Owner to confirm" in picked["text"]
        assert [m for m in await web_bot_messages(bot, "web-f") if "is leaving" in m["text"]]

        # Trained access: nobody has passed; then Eve does.
        check = await web_say(bot, "access check", "web-admin")
        assert "5 of 5 people with access haven't passed" in check["text"]  # Gus still listed
        assert "Ann Editor: Facebook DeptNews" in check["text"]
        await web_pass_exam(bot, "web-e")
        check = await web_say(bot, "access check", "web-admin")
        assert "4 of 5 people" in check["text"] and "Eve Owner" not in check["text"]
    finally:
        await stop_bot(bot)


async def _opened(bot, user: str) -> bool:
    found = review_messages(await web_bot_messages(bot, user))
    assert len(found) <= 1
    return len(found) == 1 and "Reminder" not in found[0]["text"]


def _value(message: dict, action_id: str) -> str:
    for block in message["blocks"]:
        for b in block.get("buttons", []):
            if b["action_id"] == action_id:
                return b["value"]
    raise AssertionError(f"no {action_id} button")


async def _reminders(bot, user: str, count: int) -> bool:
    found = [
        m for m in review_messages(await web_bot_messages(bot, user)) if "Reminder" in m["text"]
    ]
    assert len(found) <= count, [m["text"] for m in found]
    return len(found) == count


async def test_an_owner_secbot_cant_message_is_named_not_hidden(slack_env, fake_slack,
                                                                fake_connector):  # fmt: skip
    """``access review`` and ``access check`` on an empty register say so, and an account
    whose owner is named by email alone (as a CSV often names them) is named as getting
    no review, rather than "every account has its review" hiding it."""
    clock = FakeClock(OPENS)
    bot = await start_people_bot(slack_env, clock=clock, slack=fake_slack, connector=fake_connector)
    try:
        empty = await web_say(bot, "access review", "web-admin")
        assert empty["text"].startswith("No accounts are registered yet")
        empty = await web_say(bot, "access check", "web-admin")
        assert empty["text"].startswith("Nobody is named with access to a registered account")
        register = register_of(bot)
        await register.add(TENANT, press_x(), by=ADMIN, now=OPENS)
        emailed = Details(platform="instagram", handle="@DeptPics",
                          owner=Person("Olu Owner", "", "olu@dept.gov.uk"),
                          access=(Access(Person("Ann Editor", "web-c"), "editor"),))  # fmt: skip
        await register.add(TENANT, emailed, by=ADMIN, now=OPENS)
        opened = await web_say(bot, "access review", "web-admin")
        assert opened["text"].startswith("Opened 1 access review")
        assert "No review was opened for 1 account whose owner I can't message" in opened["text"]
        assert "Instagram @DeptPics" in opened["text"]
        again = await web_say(bot, "access review", "web-admin")
        assert again["text"].startswith("Every account with an owner has its review")
        assert "Instagram @DeptPics" in again["text"]
    finally:
        await stop_bot(bot)


async def test_the_summary_of_many_open_reviews_says_how_many_more(slack_env, fake_slack,
                                                                     fake_connector):  # fmt: skip
    """A department opening the quarter's reviews of 45 accounts: ``access`` lists 40 (a
    section each, inside Slack's 50 blocks) and says how many more there are."""
    clock = FakeClock(OPENS)
    bot = await start_people_bot(slack_env, clock=clock, slack=fake_slack, connector=fake_connector)
    try:
        register = register_of(bot)
        for n in range(45):
            await register.add(TENANT, Details(platform="x", handle=f"@Dept{n:02d}",
                                               owner=Person("Olu Owner", "web-b"),
                                               access=(Access(Person("Ann", "web-c"), ""),)),
                               by=ADMIN, now=OPENS)  # fmt: skip
        opened = await web_say(bot, "access review", "web-admin")
        assert opened["text"].startswith("Opened 45 access reviews")
        summary = await web_say(bot, "access", "web-admin")
        assert "45 access reviews open, 0 overdue." in summary["text"]
        assert "…and 5 more." in str(summary["blocks"])
    finally:
        await stop_bot(bot)
