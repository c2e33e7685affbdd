"""The team self-assessment on Slack and in Microsoft Teams, end to end over HTTP:
signed slash commands and clicks on private (ephemeral) cards, authenticated Teams
activities and card invokes; every answer recorded once, refusals for people who may
not run it, and the report uploaded as files (Slack's files_upload_v2, Teams file
attachments) with the protective marking and a hostile team name made harmless."""

from __future__ import annotations

import base64

import pytest

from app import SERVICES
from bot.audit import AuditLog
from bot.core.model import Place
from tests.assessment_support import (
    MARKING,
    TOTAL,
    anchors_resolve,
    answer_value,
    assessment_env,
    feature_of,
    start_assessment_bot,
)
from tests.incident_support import buttons, card_text
from tests.support import slack_typed, stop_bot

TEAMS = """
version: 1
teams:
  social-media:
    leads: [slack:ULEAD, teams:aad-lead]
    members: [slack:UANN, teams:aad-ann]
"""
HOSTILE = '<script>alert("x")</script> & <b>Ops</b> *team*'


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector, tmp_path, content_library):
    fake_slack.users.update({"ULEAD": "Lee Lead", "UANN": "Ann Editor", "UADMIN": "Ada Admin"})
    fake_connector.members.update({"aad-lead": "Lee Lead", "aad-ann": "Ann Editor"})
    env = assessment_env(slack_env, tmp_path, TEAMS)
    b = await start_assessment_bot(env, slack=fake_slack, connector=fake_connector,
                                   content=content_library)  # fmt: skip
    yield b
    await stop_bot(b)


async def said(fake_slack, n: int) -> dict:
    """The next private answer (through response_url) after ``n`` of them."""
    found = await fake_slack.wait_for(lambda s: len(s.responses()) > n and s.responses())
    return found[n]


async def slack_answer_all(bot, fake_slack, user: str, channel: str, assessment_id: int) -> dict:
    for index in range(TOTAL):
        n = len(fake_slack.responses())
        await bot.click("assess:answer", answer_value(assessment_id, index), user=user,
                        channel=channel, is_ephemeral=True)  # fmt: skip
        card = await said(fake_slack, n)
        assert card.get("replace_original") is True  # the same private card, moved on
    return card


async def test_on_slack_a_lead_answers_once_per_question_and_gets_the_files(bot, fake_slack):
    await bot.slash("/secbot", "assess social-media", user="UANN", channel="C0TEAM")
    assert "Only secbot admins and a team's leads can run" in (await said(fake_slack, 0))["text"]

    await bot.slash("/secbot", "assess social-media", user="ULEAD", channel="C0TEAM")
    first = await said(fake_slack, 1)
    assert f"Question 1 of {TOTAL}" in first["text"] and first["response_type"] == "ephemeral"
    a = await feature_of(bot).store.open_for("slack:T111", "social-media")
    assert a is not None and buttons(first["blocks"], "assess:answer")[0] == f"{a.id}|0|0"
    # A double click on the first answer: one answer; the card moves on to question 2.
    for _ in range(2):
        await bot.click("assess:answer", answer_value(a.id, 0), user="ULEAD", channel="C0TEAM",
                        is_ephemeral=True)  # fmt: skip
    second = await said(fake_slack, 3)
    assert f"Question 2 of {TOTAL}" in second["text"]
    assert len(await feature_of(bot).store.answers(a.id)) == 1
    # Someone else's click on the lead's card records nothing.
    await bot.click("assess:answer", answer_value(a.id, 1), user="UANN", channel="C0TEAM",
                    is_ephemeral=True)  # fmt: skip
    assert "Only secbot admins" in (await said(fake_slack, 4))["text"]
    assert len(await feature_of(bot).store.answers(a.id)) == 1

    last = await slack_answer_all(bot, fake_slack, "ULEAD", "C0TEAM", a.id)
    assert "You've answered all" in last["text"]
    assert len(await feature_of(bot).store.answers(a.id)) == TOTAL
    n = len(fake_slack.responses())
    await bot.click("assess:finish", str(a.id), user="ULEAD", channel="C0TEAM", is_ephemeral=True)
    summary = [r["text"] for r in await fake_slack.wait_for(
        lambda s: [r for r in s.responses()[n:] if "report" in r["text"]])]  # fmt: skip
    assert "ask in your direct chat with secbot" in summary[0]  # no files in a channel
    assert not [c for c in fake_slack.calls if c.path.startswith("/upload/")]

    await bot.slash("/secbot", "assess report social-media", user="ULEAD", channel="D0LEAD")
    await fake_slack.wait_for(lambda s: len(s.api_calls("files.completeUploadExternal")) >= 2)
    page, md = [c.body for c in fake_slack.calls if c.path.startswith("/upload/")]
    assert page.startswith("<!DOCTYPE html>") and MARKING in page and MARKING in md
    links, ids = anchors_resolve(page)
    assert links and links <= ids


async def test_on_slack_a_hostile_team_name_is_escaped_in_the_report(bot, fake_slack):
    """An admin may assess a team the teams file doesn't name; its name is shown as
    typed, and can't become markup in the chat or the report."""
    await bot.slash("/secbot", f"assess {slack_typed(HOSTILE)}", user="UADMIN", channel="D0ADMIN")
    first = await said(fake_slack, 0)
    assert f"Question 1 of {TOTAL}" in first["text"]
    a = await feature_of(bot).store.open_for("slack:T111", " ".join(HOSTILE.split()).casefold())
    assert a is not None and a.team_name == HOSTILE
    await slack_answer_all(bot, fake_slack, "UADMIN", "D0ADMIN", a.id)
    await bot.click("assess:finish", str(a.id), user="UADMIN", channel="D0ADMIN",
                    is_ephemeral=True)  # fmt: skip
    await fake_slack.wait_for(lambda s: len(s.api_calls("files.completeUploadExternal")) >= 2)
    page, md = [c.body for c in fake_slack.calls if c.path.startswith("/upload/")]
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Ops" in page
    assert "\\<script\\>" in md and "\\*team\\*" in md
    # Where Slack reads markup (mrkdwn), the name is escaped; plain_text shows as typed.
    marked = mrkdwn([r.get("blocks") for r in fake_slack.responses()])
    assert marked and not [t for t in marked if "<script" in t or "<b>" in t]
    assert [t for t in marked if "&lt;script&gt;" in t]
    entries = await AuditLog(feature_of(bot).services.db).all()
    assert [e.action for e in entries] == ["started a self-assessment",
                                           "finished a self-assessment"]  # fmt: skip


def mrkdwn(node) -> list[str]:
    """Every mrkdwn text in Block Kit."""
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for v in node.values() for t in mrkdwn(v)]
    if isinstance(node, list):
        return [t for v in node for t in mrkdwn(v)]
    return []


def saying(fake_connector, words: str) -> list[dict]:
    return [a for a in fake_connector.sent() if words in card_text(a)]


async def test_in_teams_a_lead_answers_in_the_personal_chat_and_gets_the_files(bot, fake_connector):
    await bot.teams_say("assess social-media", personal=True, aad="aad-ann")
    await fake_connector.wait_for(lambda s: saying(s, "Only secbot admins and a team's leads"))

    await bot.teams_say("assess social-media", personal=True, aad="aad-lead")
    (first,) = await fake_connector.wait_for(lambda s: saying(s, f"Question 1 of {TOTAL}"))
    a = await feature_of(bot).store.open_for("teams:tenant-1", "social-media")
    assert a is not None
    # Twice the same click (a retried invoke): one answer.
    for _ in range(2):
        status, _ = await bot.teams_click("assess:answer", answer_value(a.id, 0),
                                          aad="aad-lead", personal=True)  # fmt: skip
        assert status == 200
    assert len(await feature_of(bot).store.answers(a.id)) == 1
    for index in range(1, TOTAL):
        status, _ = await bot.teams_click("assess:answer", answer_value(a.id, index),
                                          aad="aad-lead", personal=True)  # fmt: skip
        assert status == 200
    updates = fake_connector.updates()
    assert "You've answered all" in card_text(updates[-1])
    status, _ = await bot.teams_click("assess:finish", str(a.id), aad="aad-lead", personal=True)
    assert status == 200
    sent = await fake_connector.wait_for(
        lambda s: [x for x in s.sent() for f in x.get("attachments", [])
                   if f["contentType"] == "text/html"]
    )  # fmt: skip
    (page,) = [f for x in sent for f in x["attachments"] if f["contentType"] == "text/html"]
    html = base64.b64decode(page["contentUrl"].split(",", 1)[1]).decode()
    assert MARKING in html and "Self-assessment: social-media" in html
    assert saying(fake_connector, "Overall: Red.")


async def test_answers_survive_a_restart_on_slack_and_in_teams(
    slack_env, fake_slack, fake_connector, tmp_path, content_library
):
    env = assessment_env(slack_env, tmp_path, TEAMS)
    bot = await start_assessment_bot(env, slack=fake_slack, connector=fake_connector,
                                     content=content_library)  # fmt: skip
    try:
        await bot.slash("/secbot", "assess social-media", user="ULEAD", channel="C0TEAM")
        await said(fake_slack, 0)
        await bot.teams_say("assess social-media", personal=True, aad="aad-lead")
        await fake_connector.wait_for(lambda s: saying(s, f"Question 1 of {TOTAL}"))
        slack = await feature_of(bot).store.open_for("slack:T111", "social-media")
        teams = await feature_of(bot).store.open_for("teams:tenant-1", "social-media")
        assert slack is not None and teams is not None and slack.id != teams.id
        for index in range(3):
            await bot.click("assess:answer", answer_value(slack.id, index), user="ULEAD",
                            channel="C0TEAM", is_ephemeral=True)  # fmt: skip
            await said(fake_slack, index + 1)
            status, _ = await bot.teams_click("assess:answer", answer_value(teams.id, index),
                                              aad="aad-lead", personal=True)  # fmt: skip
            assert status == 200
    finally:
        await stop_bot(bot)

    bot = await start_assessment_bot(env, slack=fake_slack, connector=fake_connector,
                                     content=content_library)  # fmt: skip
    try:
        await bot.slash("/secbot", "assess social-media", user="ULEAD", channel="C0TEAM")
        back = await said(fake_slack, 4)
        assert f"Welcome back: 3 of {TOTAL} answered" in back["text"]
        assert buttons(back["blocks"], "assess:answer")[0] == f"{slack.id}|3|0"  # question 4
        await bot.teams_say("assess social-media", personal=True, aad="aad-lead")
        (card,) = await fake_connector.wait_for(lambda s: saying(s, "Welcome back: 3 of"))
        assert buttons(card, "assess:answer")[0] == f"{teams.id}|3|0"
        # A click on a card from before the restart still counts, once.
        await bot.click("assess:answer", answer_value(slack.id, 3), user="ULEAD",
                        channel="C0TEAM", is_ephemeral=True)  # fmt: skip
        await said(fake_slack, 5)
        assert len(await feature_of(bot).store.answers(slack.id)) == 4
        assert len(await feature_of(bot).store.answers(teams.id)) == 3
    finally:
        await stop_bot(bot)


async def test_a_file_too_big_for_a_teams_message_is_named_not_dropped(bot, fake_connector):
    """Teams carries a file inside the message (about 26 KB at most): a bigger report is
    not attached, and the person is told so instead of seeing nothing."""
    await bot.teams_say("help", mention=True, aad="aad-lead")  # the conversation is known
    transport = bot.app[SERVICES].transports["teams"]
    page = "<p>" + "x" * 40_000 + "</p>"
    n = len(fake_connector.sent())
    await transport.upload(Place("teams", "tenant-1", "19:chan@thread.tacv2"), "report.html", page)
    (told,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert not told.get("attachments")
    assert "report.html is 41 KB, too big to attach in Teams" in told["text"]
