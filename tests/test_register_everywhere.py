"""Issue 19 items 1, 2 and 4 on the platforms their first tests left out, end to end over
HTTP: the register's CSV export on Slack and Teams (only in a direct chat: it holds
recovery contacts and who has access), editing from an account's card in Teams, tips and
questions aimed at a team's platforms on Slack and Teams, a drill that picks a
registered account on Slack and Teams, and the team training report and the
"everyone with access has passed" check in Teams.

(The web chat has each of these in tests/test_register_web.py, test_register_content.py,
test_register_drives.py and test_access_reviews_web.py / test_training_web.py.)"""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.core.clock import FakeClock
from bot.core.model import Actor
from bot.server import SERVICES
from incidents.register import csv_io
from incidents.register.model import Access, Details, Person
from incidents.register.store import RegisterStore
from tests.incident_support import buttons, card_text, desk
from tests.support import stop_bot
from tests.test_register_drives import _incidents, seed
from tests.test_register_slack_teams import _file_event
from tests.training_support import register_of, start_people_bot, write_teams

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def store(bot) -> RegisterStore:
    return RegisterStore(bot.app[SERVICES].db)


async def add(bot, tenant: str, details: Details):
    return await store(bot).add(tenant, details, by=Actor("web", "admin", "Ada"), now=NOW)


def youtube(owner: str) -> Details:
    return Details(
        "youtube", "@DeptVideo", team="Video", owner=Person("Olu Owner", owner),
        recovery_email="olu.personal@gmail.com",
        access=(Access(Person("Ann Editor", "", "ann@dept.gov.uk"), "manager"),),
    )  # fmt: skip


# --- item 1: export ----------------------------------------------------------------------


async def test_export_on_slack_only_in_the_direct_chat(running, fake_slack):
    await add(running, "slack:T111", youtube("UOWNER"))
    await running.slash("/secbot", "register export", user="UADMIN", channel="C0PUBLIC")
    (refused,) = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "direct message" in card_text(r)]
    )
    assert "/secbot register export" in card_text(refused)
    await running.slash("/secbot", "register export", user="UOWNER", channel="D0OWNER")
    await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Only secbot admins can export" in card_text(r)]
    )
    assert not [c for c in fake_slack.calls if c.path.startswith("/upload/")]

    await running.slash("/secbot", "register export", user="UADMIN", channel="D0ADMIN")
    (done,) = await fake_slack.wait_for(lambda s: s.api_calls("files.completeUploadExternal"))
    assert done["channel_id"] == "D0ADMIN"
    (uploaded,) = [c for c in fake_slack.calls if c.path.startswith("/upload/")]
    assert "olu.personal@gmail.com" in uploaded.body
    # What a spreadsheet would run as a formula is quoted, and read back as typed.
    (row,) = list(csv.DictReader(io.StringIO(uploaded.body)))
    assert (row["platform"], row["handle"]) == ("YouTube", "'@DeptVideo")
    parsed = csv_io.parse(uploaded.body.encode())
    assert [d.handle for _, d in parsed.rows] == ["@DeptVideo"] and not parsed.problems


async def test_export_in_teams_only_in_the_personal_chat(running, fake_connector):
    await add(running, "teams:tenant-1", youtube("aad-owner"))
    n = len(fake_connector.sent())
    await running.teams_say("register export", mention=True, aad="aad-admin")
    (refused,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert "direct message" in card_text(refused) and not _files(refused)
    n = len(fake_connector.sent())
    await running.teams_say("register export", personal=True, aad="aad-admin")
    (sent,) = await fake_connector.wait_for(lambda s: [a for a in s.sent()[n:] if _files(a)])
    (file,) = _files(sent)
    assert file["name"] == "accounts-register.csv"
    text = base64.b64decode(file["contentUrl"].split(",", 1)[1]).decode("utf-8")
    assert "@DeptVideo" in text and "Ann Editor <ann@dept.gov.uk> (manager)" in text


def _files(activity: dict) -> list[dict]:
    return [a for a in activity.get("attachments") or [] if a.get("name")]


# --- item 1: editing from the card in Teams ----------------------------------------------


async def test_editing_from_the_card_in_teams(running, fake_connector):
    account = await add(running, "teams:tenant-1", youtube("aad-owner"))
    n = len(fake_connector.sent())
    await running.teams_say(f"register {account.id}", personal=True, aad="aad-owner")
    (card,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert buttons(card, "register:edit") == [str(account.id)]
    n = len(fake_connector.sent())
    status, _ = await running.teams_click("register:edit", str(account.id), aad="aad-owner",
                                          personal=True)  # fmt: skip
    (form,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert status == 200 and '"Input.Text"' in json.dumps(form)
    assert "@DeptVideo" in json.dumps(form)  # the boxes start with the account as it is
    # Someone else pressing the same button gets no form.
    n = len(fake_connector.sent())
    await running.teams_click("register:edit", str(account.id), aad="aad-user-2", personal=True)
    (other,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert "Input.Text" not in json.dumps(other)
    assert "Only secbot admins and the business owner" in card_text(other)


async def test_the_full_card_on_slack_shows_every_field(running, fake_slack):
    """Slack shows at most 10 fields in a section; an account with a link has 12 (the
    recovery contacts and connected tools among them), so the card uses two."""
    details = replace(youtube("UOWNER"), url="https://www.youtube.com/@DeptVideo",
                      recovery_holder="Video team mailbox", tools=("Hootsuite",))  # fmt: skip
    account = await add(running, "slack:T111", details)
    await running.slash("/secbot", f"register {account.id}", user="UOWNER", channel="D0OWNER")
    (card,) = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Recovery email" in card_text(r)]
    )
    sections = [b for b in card["blocks"] if b["type"] == "section"]
    assert all(len(b.get("fields") or []) <= 10 for b in sections)
    shown = [f["text"] for b in sections for f in b.get("fields") or []]
    for label, value in (("Link", "https://www.youtube.com/@DeptVideo"),
                         ("Recovery controlled by", "Video team mailbox"),
                         ("Connected tools", "Hootsuite")):  # fmt: skip
        assert any(label in f and value in f for f in shown), (label, shown)


# --- item 2: tips, questions and drills aimed by the register ----------------------------


async def test_tips_and_questions_for_the_teams_platforms_on_slack_and_teams(
    running, fake_slack, fake_connector, content_library
):
    titles = {t.title.en for t in content_library.tips.values() if "youtube" in t.platforms}
    await add(running, "slack:T111", youtube("UOWNER"))
    await add(running, "teams:tenant-1", youtube("aad-owner"))
    for n in range(3):
        await running.slash("/tip", "", user="UOWNER")
        shown = await fake_slack.wait_for(lambda s, n=n: s.responses()[n:] and s.responses())
        assert any(t in card_text(shown[n]) for t in titles), card_text(shown[n])
    for _ in range(3):
        before = len(fake_connector.sent())
        await running.teams_say("tip", personal=True, aad="aad-owner")
        (tip,) = await fake_connector.wait_for(lambda s, b=before: s.sent()[b:])
        assert any(t in card_text(tip) for t in titles), card_text(tip)
    # A question aimed at the platform, asked for by name.
    stems = {q.stem.en for q in content_library.items_for_tag("youtube")}
    await running.slash("/quiz", "youtube", user="UOWNER", channel="C0QUIZ")
    asked = await fake_slack.wait_for(
        lambda s: [c for c in s.api_calls("chat.postMessage") if c.get("channel") == "C0QUIZ"]
    )
    assert any(stem in card_text(asked) for stem in stems)
    before = len(fake_connector.sent())
    await running.teams_say("quiz youtube", personal=True, aad="aad-owner")
    asked = await fake_connector.wait_for(lambda s: s.sent()[before:])
    assert any(stem in card_text(asked) for stem in stems)


async def test_a_drill_picks_a_registered_account_on_slack_and_teams(running, fake_slack,
                                                                     fake_connector):  # fmt: skip
    await seed(running, "slack:T111", ("UOWNER", "UOTHER"))
    await running.slash("/compromised", "drill", user="UOTHER", channel="C0DRILL")
    (inc,) = await _eventually_incidents(running, "slack:T111")
    assert inc.drill and inc.account == "@deptcampaigns" and inc.owning_team == "Campaigns"
    await seed(running, "teams:tenant-1", ("aad-owner", "aad-other"))
    await running.teams_say("compromised drill", mention=True, aad="aad-other")
    (inc,) = await _eventually_incidents(running, "teams:tenant-1")
    # (their team's one account: the drill picks at random among a team's accounts)
    assert inc.drill and inc.account == "@deptcampaigns" and inc.owning_team == "Campaigns"
    events = await desk(running).store.timeline.events(inc.id)
    assert any(e.kind == "register" for e in events)


async def _eventually_incidents(bot, tenant: str) -> list:
    from tests.support import eventually

    return await eventually(lambda: _incidents(bot, tenant))


# --- item 4: the team report and the trained-access check in Teams -----------------------

TEAMS_FILE = """
version: 1
teams:
  social-media:
    leads: [teams:aad-lead]
    members: [teams:aad-ann, teams:aad-bob]
"""


@pytest.fixture
async def people(slack_env, fake_slack, fake_connector, tmp_path):
    fake_connector.members.update({"aad-ann": "Ann Editor", "aad-bob": "Bob Writer",
                                   "aad-lead": "Lee Lead", "aad-owner": "Olu Owner"})  # fmt: skip
    env = {**slack_env, "SECBOT_PEOPLE_TEAMS": write_teams(tmp_path, TEAMS_FILE)}
    clock = FakeClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    bot = await start_people_bot(env, clock=clock, slack=fake_slack, connector=fake_connector)
    yield bot
    await stop_bot(bot)


def saying(fake_connector, words: str, since: int = 0) -> list[dict]:
    return [a for a in fake_connector.sent()[since:] if words in card_text(a)]


async def test_the_team_report_and_the_trained_access_check_in_teams(people, fake_connector):
    await people.teams_say("training assign team social-media by 2026-12-02", mention=True,
                           aad="aad-lead")  # fmt: skip
    await fake_connector.wait_for(lambda s: saying(s, "Assigned the security exam to 2 people"))
    n = len(fake_connector.sent())
    await people.teams_say("training report social-media", mention=True, aad="aad-lead")
    (report,) = await fake_connector.wait_for(lambda s: saying(s, "Training report", n))
    assert "2 people: 0 passed, 0 overdue, 2 due later, 0 not assigned." in card_text(report)
    assert "ask in your direct chat" in card_text(report) and not _files(report)
    n = len(fake_connector.sent())
    await people.teams_say("training report social-media", personal=True, aad="aad-lead")
    (report,) = await fake_connector.wait_for(lambda s: [a for a in s.sent()[n:] if _files(a)])
    (file,) = _files(report)
    rows = list(csv.reader(io.StringIO(
        base64.b64decode(file["contentUrl"].split(",", 1)[1]).decode("utf-8-sig"))))  # fmt: skip
    assert sorted(r[0] for r in rows[1:]) == ["Ann Editor", "Bob Writer"]
    n = len(fake_connector.sent())
    await people.teams_say("training report social-media", personal=True, aad="aad-ann")
    await fake_connector.wait_for(lambda s: saying(s, "only do that for a team you lead", n))

    await register_of(people).add(
        "teams:tenant-1",
        Details("linkedin", "dept-news", owner=Person("Olu Owner", "aad-owner"),
                access=(Access(Person("Ann Editor", "aad-ann"), "admin"),)),
        by=Actor("teams", "aad-admin", "Ada"), now=NOW,
    )  # fmt: skip
    n = len(fake_connector.sent())
    await people.teams_say("access check", mention=True, aad="aad-admin")
    (check,) = await fake_connector.wait_for(lambda s: saying(s, "haven't passed", n))
    assert "2 of 2 people with access" in card_text(check)
    assert "Ann Editor: LinkedIn dept-news" in card_text(check)
    n = len(fake_connector.sent())
    await people.teams_say("access check", mention=True, aad="aad-ann")
    await fake_connector.wait_for(lambda s: saying(s, "Only secbot admins", n))


# --- Bad input: a spreadsheet's odd CSV, shared in Slack ----------------------------------


async def test_a_semicolon_utf16_csv_with_line_breaks_in_a_cell_on_slack(running, fake_slack):
    """UTF-16 with a BOM and semicolons (a spreadsheet in a language with decimal commas),
    a cell of people with access one a line: each good row imported, each bad one named
    by the line it starts on, and nothing changed until the admin applies it."""
    data = (
        "platform;handle;owning_team;people_with_access\r\n"
        'X;@semi;Press;"Ann <ann@dept.gov.uk> (admin)\r\nBob <bob@dept.gov.uk> (editor)"\r\n'
        "Myspace;@gone;Press;\r\n"
        "Instagram;@café;Press;\r\n"
        "X;@SEMI;Campaigns;\r\n"
    ).encode("utf-16")
    fake_slack.files["FSEMI"] = data
    files = [{"id": "FSEMI", "name": "accounts.csv", "size": len(data),
              "url_private_download": fake_slack.file_url("FSEMI")}]  # fmt: skip
    await running.slack_post(_file_event(files, user="UADMIN"), content_type="application/json")
    (preview,) = await fake_slack.wait_for(
        lambda s: [c for c in s.api_calls("chat.postEphemeral") if "dry run" in card_text(c)]
    )
    text = card_text(preview)
    assert "2 rows good, 2 with problems" in text
    assert "Line 4: unknown platform “Myspace”" in text  # the row after the two-line one
    assert "Line 6: X @SEMI is on line 2 already (a duplicate)" in text
    assert await store(running).accounts("slack:T111") == []
    blocks = preview["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    (staged,) = buttons(blocks, "register:apply")
    await running.click("register:apply", staged, user="UADMIN", channel="D0ADMIN")
    from tests.support import eventually

    accounts = await eventually(lambda: store(running).accounts("slack:T111"))
    assert sorted(a.title for a in accounts) == ["Instagram @café", "X @semi"]
    (semi,) = [a for a in accounts if a.platform == "x"]
    assert [a.person.name for a in semi.access] == ["Ann", "Bob"]


# --- Bad input: only admins and the account's owner may change it -------------------------


async def test_only_admins_and_the_owner_change_an_account_in_the_web_chat(running):
    """Having access is not owning: someone with access sees the recovery contacts but
    can't save, remove, or add people by the picker; the owner and an admin can."""
    editor = Access(Person("Web User 2", "web-user-2"), "editor")
    details = replace(youtube("web-user-1"), access=(editor,))
    account = await add(running, "web:local", details)

    async def say(user: str, *, text=None, action=None) -> str:
        status, body = await running.web_send(user=user, text=text, action=action)
        assert status == 200 and body["ok"], body
        return card_text((await running.web_messages(user=user))[-1])

    assert "olu.personal@gmail.com" in await say("web-user-2", text=f"register {account.id}")
    refusal = "Only secbot admins and the business owner"
    assert refusal in await say("web-user-2", text=f"register remove {account.id}")
    assert refusal in await say(
        "web-user-2",
        action={
            "action_id": "register:save",
            "value": str(account.id),
            "form": {"handle": "@Mine"},
        },
    )
    assert refusal in await say(
        "web-user-2",
        action={
            "action_id": "register:owner",
            "value": str(account.id),
            "form": {"person": "web-user-2"},
        },
    )
    assert refusal in await say(
        "web-user-3",
        action={
            "action_id": "register:grant",
            "value": str(account.id),
            "form": {"person": "web-user-3"},
        },
    )
    same = await store(running).get("web:local", account.id)
    assert same.handle == "@DeptVideo" and same.owner.user_id == "web-user-1"
    assert [a.person.user_id for a in same.access] == ["web-user-2"]

    # The owner may add people; an admin may remove the account.
    await say(
        "web-user-1",
        action={
            "action_id": "register:grant",
            "value": str(account.id),
            "form": {"person": "web-user-3"},
        },
    )
    after = await store(running).get("web:local", account.id)
    assert [a.person.user_id for a in after.access] == ["web-user-2", "web-user-3"]
    assert "is no longer in the register" in await say(
        "web-admin", text=f"register remove {account.id}"
    )
    assert await store(running).get("web:local", account.id) is None


# --- item 3: review reminders on Slack and Teams ------------------------------------------


def _linkedin(owner: str, ann: str) -> Details:
    return Details("linkedin", "dept-news", owner=Person("Olu Owner", owner),
                   access=(Access(Person("Ann Editor", ann), "admin"),))  # fmt: skip


async def test_an_unanswered_review_is_reminded_in_teams(people, fake_connector):
    await register_of(people).add("teams:tenant-1", _linkedin("aad-owner", "aad-ann"),
                                  by=Actor("teams", "aad-admin", "Ada"),
                                  now=people.app[SERVICES].clock.now())  # fmt: skip
    await people.teams_say("access review", mention=True, aad="aad-admin")
    await fake_connector.wait_for(lambda s: saying(s, "please check who can get into"))
    assert not saying(fake_connector, "Reminder")
    await people.app[SERVICES].clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))  # Thu
    (reminder,) = await fake_connector.wait_for(lambda s: saying(s, "Reminder"))
    assert "LinkedIn dept-news" in card_text(reminder)
    assert buttons(reminder, "access:keep")  # answerable from the reminder itself
    # Past its due date (ten working days) it shows as overdue to admins.
    await people.app[SERVICES].clock.set(datetime(2026, 12, 10, 11, 0, tzinfo=UTC))
    n = len(fake_connector.sent())
    await people.teams_say("access", mention=True, aad="aad-admin")
    (summary,) = await fake_connector.wait_for(lambda s: saying(s, "access review", n))
    assert "1 overdue" in card_text(summary)
    assert "LinkedIn dept-news: OVERDUE by 9 Dec 2026, owner Olu Owner" in card_text(summary)


@pytest.fixture
async def slack_people(slack_env, fake_slack, fake_connector, tmp_path):
    fake_slack.users.update({"UANN": "Ann Editor", "UOWN": "Olu Owner"})
    env = {**slack_env, "SECBOT_PEOPLE_TEAMS": write_teams(tmp_path, TEAMS_FILE)}
    clock = FakeClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    bot = await start_people_bot(env, clock=clock, slack=fake_slack, connector=fake_connector)
    yield bot
    await stop_bot(bot)


async def test_an_unanswered_review_is_reminded_on_slack(slack_people, fake_slack):
    await register_of(slack_people).add("slack:T111", _linkedin("UOWN", "UANN"),
                                        by=Actor("slack", "UADMIN", "Ada"),
                                        now=slack_people.app[SERVICES].clock.now())  # fmt: skip
    await slack_people.slash("/secbot", "access review", user="UADMIN", channel="C0PEOPLE")

    def to_owner(s, words: str) -> list[dict]:
        return [c for c in s.api_calls("chat.postMessage")
                if c.get("channel") == "UOWN" and words in (c.get("text") or "")]  # fmt: skip

    await fake_slack.wait_for(lambda s: to_owner(s, "please check who can get into"))
    await slack_people.app[SERVICES].clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    (reminder,) = await fake_slack.wait_for(lambda s: to_owner(s, "Reminder"))
    assert "LinkedIn dept-news" in reminder["text"] and "Keep" in json.dumps(reminder["blocks"])
    await slack_people.app[SERVICES].clock.set(datetime(2026, 12, 10, 11, 0, tzinfo=UTC))
    await slack_people.slash("/secbot", "access", user="UADMIN", channel="C0PEOPLE")
    (summary,) = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "OVERDUE" in card_text(r)]
    )
    assert "LinkedIn dept-news: OVERDUE by 9 Dec 2026, owner Olu Owner" in card_text(summary)


# --- item 3: the leaver picker on Slack and Teams -----------------------------------------


async def test_the_leaver_picker_on_slack(slack_people, fake_slack):
    await register_of(slack_people).add("slack:T111", _linkedin("UOWN", "UANN"),
                                        by=Actor("slack", "UADMIN", "Ada"),
                                        now=slack_people.app[SERVICES].clock.now())  # fmt: skip
    await slack_people.slash("/secbot", "leaver", user="UADMIN", channel="D0ADMIN")
    (picker,) = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Who is leaving?" in card_text(r)]
    )
    (block,) = [b for b in picker["blocks"]
                if any(e.get("type") == "users_select" for e in b.get("elements", []))]  # fmt: skip
    await slack_people.click("leaver:pick", "", user="UADMIN", channel="D0ADMIN",
                             selected_user="UANN", block_id=block["block_id"])  # fmt: skip
    await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Ann Editor can reach 1 registered" in card_text(r)]
    )
    await fake_slack.wait_for(
        lambda s: [c for c in s.api_calls("chat.postMessage")
                   if c.get("channel") == "UOWN" and "is leaving" in (c.get("text") or "")]
    )  # fmt: skip


async def test_the_leaver_picker_in_teams(people, fake_connector):
    await register_of(people).add("teams:tenant-1", _linkedin("aad-owner", "aad-ann"),
                                  by=Actor("teams", "aad-admin", "Ada"),
                                  now=people.app[SERVICES].clock.now())  # fmt: skip
    n = len(fake_connector.sent())
    await people.teams_say("leaver", personal=True, aad="aad-admin")
    (picker,) = await fake_connector.wait_for(lambda s: saying(s, "Who is leaving?", n))
    assert "graph.microsoft.com/users" in json.dumps(picker)  # Teams' own people picker
    n = len(fake_connector.sent())
    await people.teams_click("leaver:pick", "", aad="aad-admin", personal=True,
                             typed={"person": "aad-ann"})  # fmt: skip
    await fake_connector.wait_for(lambda s: saying(s, "Ann Editor can reach 1 registered", n))
    await fake_connector.wait_for(lambda s: saying(s, "Ann Editor is leaving", n))
