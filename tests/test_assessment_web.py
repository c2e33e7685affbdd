"""The team self-assessment in the local web chat, end to end over HTTP: a team lead
answers every question on private cards, stops and carries on after a restart, a double
click records one answer, someone who leads another team is refused, and the report
comes as a chat summary and two files (HTML and Markdown) with the protective marking,
a rating per principle, and every amber or red answer linked to its fix and to the tips
and questions that teach it."""

from __future__ import annotations

import pytest

from bot.audit import AuditLog
from tests.assessment_support import (
    MARKING,
    QUESTIONS,
    TOTAL,
    anchors_resolve,
    answer_value,
    assessment_env,
    feature_of,
    start_assessment_bot,
)
from tests.incident_support import buttons
from tests.support import stop_bot
from tests.training_support import web_bot_messages, web_say

TEAMS = """
version: 1
teams:
  social-media:
    description: Social media team
    leads: [web:web-head]
    members: [web:web-user-1]
  press-office:
    leads: [web:web-user-9]
    members: [web:web-user-9]
"""
TENANT = "web:local"


@pytest.fixture
def env(slack_env, tmp_path):
    return assessment_env(slack_env, tmp_path, TEAMS)


async def click(bot, user: str, message: dict, action_id: str, value: str) -> dict:
    status, body = await bot.web_send(
        action={"action_id": action_id, "value": value, "message_id": str(message["id"])},
        user=user,
        conversation="dm",
    )
    assert status == 200 and body["ok"], body
    return await card(bot, user, message["id"])


async def card(bot, user: str, message_id: int) -> dict:
    """The message with this id as it reads now (a click updates its own card)."""
    (found,) = [m for m in await web_bot_messages(bot, user) if m["id"] == message_id]
    return found


def question_no(message: dict) -> int:
    """The question a card asks (its answer buttons carry the index)."""
    values = buttons(message["blocks"], "assess:answer")
    return int(values[0].split("|")[1])


async def test_a_lead_answers_stops_resumes_after_a_restart_and_gets_the_report(
    env, fake_slack, fake_connector, content_library
):
    bot = await start_assessment_bot(env, slack=fake_slack, connector=fake_connector,
                                     content=content_library)  # fmt: skip
    try:
        # Someone who leads another team, and a member, are refused in the same words,
        # as is a team that doesn't exist.
        for user, team in (("web-user-9", "social-media"), ("web-user-1", "social-media"),
                           ("web-user-9", "no-such-team")):  # fmt: skip
            refused = await web_say(bot, f"assess {team}", user)
            assert "Only secbot admins and a team's leads can run" in refused["text"]
        assert await feature_of(bot).store.open_for(TENANT, "social-media") is None

        first = await web_say(bot, "assess social-media", "web-head")
        assert f"Question 1 of {TOTAL}" in first["text"]
        assert first.get("private") or first.get("visible_to")  # only the lead sees it
        a = await feature_of(bot).store.open_for(TENANT, "social-media")
        assert a is not None and a.team_name == "social-media"
        # A double click (and the same click again) records one answer.
        msg = first
        for _ in range(3):
            msg = await click(bot, "web-head", first, "assess:answer", answer_value(a.id, 0))
        answers = await feature_of(bot).store.answers(a.id)
        assert list(answers) == [QUESTIONS.questions[0].id]
        assert question_no(msg) == 1
        # Answer up to question 6, then stop.
        for index in range(1, 6):
            msg = await click(bot, "web-head", msg, "assess:answer", answer_value(a.id, index))
        assert len(await feature_of(bot).store.answers(a.id)) == 6
        # Go back and change an answer: still one answer for that question.
        back = await click(bot, "web-head", msg, "assess:show", f"{a.id}|2")
        assert question_no(back) == 2
        assert "Your answer: " in str(back["blocks"])
        changed = QUESTIONS.questions[2].answers[1].id
        msg = await click(bot, "web-head", back, "assess:answer", f"{a.id}|2|1")
        answers = await feature_of(bot).store.answers(a.id)
        assert len(answers) == 6 and answers[QUESTIONS.questions[2].id].answer_id == changed
        assert question_no(msg) == 6  # on to the first question not answered yet
    finally:
        await stop_bot(bot)

    bot = await start_assessment_bot(env, slack=fake_slack, connector=fake_connector,
                                     content=content_library)  # fmt: skip
    try:
        again = await web_say(bot, "assess social-media", "web-head")
        assert f"Welcome back: 6 of {TOTAL} answered" in again["text"]
        assert question_no(again) == 6
        msg = again
        for index in range(6, TOTAL):
            if index == 2:
                continue
            msg = await click(bot, "web-head", msg, "assess:answer", answer_value(a.id, index))
        assert "You've answered all" in msg["text"]
        (finish,) = buttons(msg["blocks"], "assess:finish")
        done = await click(bot, "web-head", msg, "assess:finish", finish)
        assert "finished. Overall rating: Red" in done["text"]
        # A second click on Finish sends no second report.
        await bot.web_send(
            action={"action_id": "assess:finish", "value": finish, "message_id": str(msg["id"])},
            user="web-head", conversation="dm",
        )  # fmt: skip
        said = await web_bot_messages(bot, "web-head")
        assert "is finished already" in said[-1]["text"]
        files = [m["attachment"] for m in said if m.get("attachment")]
        assert [f["filename"].rsplit(".", 1)[1] for f in files] == ["html", "md"]
        (summary,) = [m for m in said if m["text"].startswith("Self-assessment report")]
        assert f"({MARKING})" in summary["text"]
        assert "1. Trust the platform: Amber (2 green, 2 amber, 0 red)" in summary["text"]
        assert "5. Develop and test an incident recovery plan: Green (4 green" in summary["text"]
        html, md = files[0]["content"], files[1]["content"]
        assert html.count(MARKING) >= 3 and md.count(MARKING) == 2  # head, foot (and title)
        links, ids = anchors_resolve(html)
        assert links and links <= ids
        assert "tip-028" in ids and "quiz-q-pol-008" in ids  # the changed answer (amber)
        assert "<script" not in html
        # A clicked card of a finished assessment records nothing more.
        await bot.web_send(
            action={"action_id": "assess:answer", "value": answer_value(a.id, 0),
                    "message_id": str(msg["id"])},
            user="web-head", conversation="dm",
        )  # fmt: skip
        said = await web_bot_messages(bot, "web-head")
        assert "is finished. Type assess social-media to start a new one" in said[-1]["text"]
        # The report again, on request.
        await web_say(bot, "assess report social-media", "web-head")
        said = await web_bot_messages(bot, "web-head")
        assert len([m for m in said if m.get("attachment")]) == 4
        entries = await AuditLog(feature_of(bot).services.db).all()
        assert [(e.actor, e.action, e.target) for e in entries] == [
            ("web:web-head", "started a self-assessment", "team social-media"),
            ("web:web-head", "finished a self-assessment", "team social-media"),
        ]
    finally:
        await stop_bot(bot)


async def test_assess_alone_picks_the_one_team_you_lead(env, fake_slack, fake_connector):
    bot = await start_assessment_bot(env, slack=fake_slack, connector=fake_connector)
    try:
        mine = await web_say(bot, "assess", "web-user-9")
        assert "Self-assessment: press-office" in mine["text"] and "Question 1 of" in mine["text"]
        asked = await web_say(bot, "assess", "web-admin")  # an admin may run any team's
        assert "Say which team, for example assess social-media" in asked["text"]
        long = await web_say(bot, "assess " + "x" * 70, "web-admin")
        assert (
            "60" in long["text"] and await feature_of(bot).store.open_for(TENANT, "x" * 70) is None
        )
    finally:
        await stop_bot(bot)
