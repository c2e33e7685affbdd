"""``/secbot posture`` end to end over loopback HTTP (issue 19 item 6), on Slack, Teams
and the web chat: the figures for a register seeded through the register's own CSV
import and store, the reviews' and incidents' own stores; a friendly refusal for anyone
not an admin; nothing from another workspace; hostile handles and team names inert; the
same figures in ``/metrics`` (counts only, bounded labels); and a big register still
fits every platform's limits."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from bot.core.actions import button_value, value_parts
from bot.core.model import Actor, Place
from bot.render.slack import MAX_BLOCKS, MAX_SECTION
from bot.server import SERVICES
from incidents.posture.metrics import MAX_TEAMS
from incidents.register import csv_io
from incidents.register.model import Access, Details, Person
from incidents.register.store import RegisterStore
from incidents.reviews.store import Reviewed, ReviewStore
from incidents.store import IncidentStore
from tests.incident_support import card_text
from tests.quiz_support import store_of, web_values
from tests.support import eventually
from tests.test_metrics import scrape, value
from tests.test_output_safety import assert_inert, assert_slack_inert

SLACK = "slack:T111"
ADMIN = Actor("slack", "UADMIN", "Ada Admin")
HOSTILE_TEAM = "<!here> *Hostile* team \u202e[click](https://evil.example)"
HOSTILE_HANDLE = "@*evil*_`x`<@U1>"

CSV = (
    b"platform,handle,owning_team,business_owner,people_with_access,two_factor,"
    b"recovery_email,recovery_phone,recovery_controlled_by,recovery_is_shared_mailbox\r\n"
    b"X,'@DeptPress,Press office,Olu Owner <UOLU>,Ann Editor <UANN> (admin); "
    b"Bea Agency <bea@agency.example> (editor),sms,press@dept.gov.uk,,Press mailbox,yes\r\n"
    b"Facebook,DeptNews,Press office,Olu Owner <UOLU>,Ann Editor <UANN> (editor),passkey,"
    b"olu.home@gmail.com,,Olu Owner,no\r\n"
    b"Instagram,'@deptdigital,Digital,Dee Lead <UDEE>,Cy Maker <UCY> (editor),"
    b"authenticator app,,+44 7700 900123,Dee Lead,no\r\n"
    b"YouTube,DeptVideo,,Olu Owner <UOLU>,,none,video@dept.gov.uk,,Video mailbox,yes\r\n"
    b"LinkedIn,Dept page,Digital,Dee Lead <UDEE>,,security key,digital@dept.gov.uk,,"
    b"Digital mailbox,yes\r\n"
)


def services(bot):
    return bot.app[SERVICES]


def hostile(owner: str) -> Details:
    """What a careless import or a hostile admin could leave in the register."""
    return Details(
        platform="threads",
        handle=HOSTILE_HANDLE,
        team=HOSTILE_TEAM,
        owner=Person("Mal <!channel> \u202eOwner", owner),
        two_factor="sms",
        recovery_email="press@dept.gov.uk",
        recovery_shared=True,
    )


async def seed_slack(bot) -> None:
    db = services(bot).db
    register = RegisterStore(db)
    parsed = csv_io.parse(CSV)
    assert not parsed.problems, parsed.problems
    now = datetime.now(UTC)
    await register.apply(SLACK, [d for _, d in parsed.rows], by=ADMIN, now=now)
    await register.add(SLACK, hostile("UMAL"), by=ADMIN, now=now)
    # Another workspace's register: never in this workspace's summary.
    secret = Details(platform="x", handle="@OtherWorkspaceSecret", team="Elsewhere",
                     two_factor="none", owner=Person("Zed Other", "UZED"))  # fmt: skip
    await register.add("slack:T999", secret, by=ADMIN, now=now)
    # An access review of DeptNews, a month past its due date.
    news = await register.find(SLACK, "facebook", "DeptNews")
    await ReviewStore(db).open(
        tenant=SLACK, account_id=news.id, account_title=news.title, period="2026-01",
        owner_id="UOLU", owner_name="Olu Owner", place=Place("slack", "T111", "D1").to_json(),
        people=[Reviewed("id:UANN", "Ann Editor", "editor")], now=now - timedelta(days=60),
        due_on=(now - timedelta(days=30)).date(), next_reminder_at=now + timedelta(days=30),
    )  # fmt: skip
    # Incidents: one open for the press office, one closed; a drill for Digital closed
    # on 20 November and one still running, started earlier.
    incidents = IncidentStore(db)
    where = Place("slack", "T111", "C1")
    reporter = Actor("slack", "UANN", "Ann Editor")

    async def start(at: datetime, team: str | None, *, drill: bool = False, account: str = ""):
        return await incidents.create(at, reporter=reporter, origin=where, drill=drill,
                                      platform="x", account=account or None,
                                      owning_team=team)  # fmt: skip

    live = await start(now - timedelta(hours=2), "Press office", account="@DeptPress")
    closed = await start(now - timedelta(days=3), "press  OFFICE")
    await incidents.close(closed.id, "done", now)
    drill = await start(datetime(2026, 11, 20, 14, 0, tzinfo=UTC), "Digital", drill=True)
    await incidents.close(drill.id, "practised", now)
    await start(datetime(2026, 11, 2, 9, 0, tzinfo=UTC), "Digital", drill=True)
    assert live.status == "triage"


def slack_said(fake_slack) -> list[dict]:
    return [r for r in fake_slack.responses() if "Security posture" in card_text(r)]


async def test_posture_in_slack_and_in_metrics(running, fake_slack):
    await seed_slack(running)
    await running.slash("/secbot", "posture", user="UADMIN")
    (reply,) = await fake_slack.wait_for(slack_said)
    text = card_text(reply)
    lines = [s["text"]["text"] for s in reply["blocks"] if s["type"] == "section"]
    intro, totals, *teams = lines
    assert "This Slack workspace" in intro
    assert "6 registered accounts in 3 owning teams." in intro
    assert re.search(r"\d{1,2}:\d\d (GMT|BST)", intro)  # the time, in London
    assert totals.splitlines() == [
        "• 3 of 6 accounts without strong 2FA (2 SMS, 1 no 2FA)",
        "• 2 accounts with personal recovery contacts",
        "• 1 access review overdue",
        "• 6 of 6 people with access not trained in the last twelve months (1 can't be"
        " checked: the register has no chat id for them)",
        "• 1 open incident (and 1 drill running)",
        "• Last drill: Fri 20 Nov 2026, 14:00 GMT (Digital)",
    ]
    press = next(t for t in teams if t.startswith("Press office"))
    assert press.splitlines() == [
        "Press office: 2 registered accounts",
        "Without strong 2FA (1): X @DeptPress (SMS)",
        "Personal recovery contacts (1): Facebook DeptNews (personal email address)",
        "Access reviews overdue (1): Facebook DeptNews (due "
        + _due_words(datetime.now(UTC) - timedelta(days=30))
        + ")",
        "Not trained (3): Ann Editor, Bea Agency, Olu Owner",
        f"Open incidents (1): SEC-{datetime.now(UTC).year}-0001 (@DeptPress, in triage)",
        "Last drill: none recorded",
    ]
    digital = next(t for t in teams if t.startswith("Digital"))
    assert "Personal recovery contacts (1): Instagram @deptdigital (held by one person)" in digital
    assert "Not trained (2): Cy Maker, Dee Lead" in digital
    assert "Last drill: Fri 20 Nov 2026, 14:00 GMT" in digital
    nobody = next(t for t in teams if t.startswith("No owning team recorded"))
    assert "Without strong 2FA (1): YouTube DeptVideo (no 2FA)" in nobody
    # The pointer to the full detail, as typed in Slack.
    assert "/secbot register export" in text and "/secbot access check" in text
    # Names, not ids; nothing from the other workspace.
    assert "UOLU" not in text and "OtherWorkspaceSecret" not in text
    # The hostile team and handle are shown, inert.
    assert "Hostile" in text and "evil" in text
    assert_slack_inert(reply)

    # Not an admin: a friendly refusal, and no figures.
    before = len(fake_slack.responses())
    await running.slash("/secbot", "posture", user="UANN")
    (refusal,) = await fake_slack.wait_for(lambda s: s.responses()[before:])
    assert "Only secbot admins can see the security posture summary" in card_text(refusal)
    assert "DeptPress" not in card_text(refusal)

    # /metrics: the same figures, counts only.
    found = await scrape(running)
    assert value(found, "secbot_posture_accounts", tenant=SLACK, team="Press office") == 2
    assert value(found, "secbot_posture_accounts", tenant=SLACK, team="(none)") == 1
    weak = "secbot_posture_accounts_weak_2fa"
    assert value(found, weak, tenant=SLACK, team="Press office") == 1
    assert value(found, weak, tenant=SLACK, team="Digital") == 0
    personal = "secbot_posture_accounts_personal_recovery"
    assert value(found, personal, tenant=SLACK, team="Digital") == 1
    overdue = "secbot_posture_access_reviews_overdue"
    assert value(found, overdue, tenant=SLACK, team="Press office") == 1
    incidents = "secbot_posture_open_incidents"
    assert value(found, incidents, tenant=SLACK, team="Press office") == 1
    assert value(found, incidents, tenant=SLACK, team="Digital") == 0  # drills don't count
    drill = "secbot_posture_last_drill_timestamp_seconds"
    when = datetime(2026, 11, 20, 14, 0, tzinfo=UTC).timestamp()
    assert value(found, drill, tenant=SLACK, team="Digital") == when
    assert value(found, drill, tenant=SLACK, team="Press office") == 0
    assert value(found, "secbot_posture_people_with_access", tenant=SLACK) == 6
    assert value(found, "secbot_posture_untrained_people", tenant=SLACK) == 6
    assert value(found, weak, tenant="slack:T999", team="Elsewhere") == 1
    assert not any(k[0] == "secbot_metrics_source_errors_total" for k in found)
    async with running.session.get(running.url + "metrics", headers={"Host": "127.0.0.1"}) as r:
        exposition = await r.text()
    for name in ("Olu", "Ann Editor", "DeptPress", "UOLU", "OtherWorkspaceSecret", "*evil*"):
        assert name not in exposition


def _due_words(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


async def test_posture_in_teams(running, fake_connector):
    register = RegisterStore(services(running).db)
    tenant = "teams:tenant-1"
    now = datetime.now(UTC)
    await register.add(tenant, hostile("aad-mal"), by=ADMIN, now=now)
    page = await register.add(
        tenant,
        Details(platform="linkedin", handle="Dept page", team="Digital",
                owner=Person("Dee Lead", "aad-dee"), two_factor="passkey",
                recovery_email="dee@gmail.com"),
        by=ADMIN, now=now,
    )  # fmt: skip
    await _overdue_review(running, tenant, page, "aad-dee")
    n = len(fake_connector.sent())
    await running.teams_say("posture", personal=True, aad="aad-admin")
    (reply,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    text = card_text(reply)
    assert "This Microsoft Teams organisation" in text
    assert "2 registered accounts in 2 owning teams." in text
    assert "• 1 of 2 accounts without strong 2FA (1 SMS)" in text
    assert "Personal recovery contacts (1): LinkedIn Dept page (personal email address)" in text
    assert "• 2 of 2 people with access not trained" in text
    assert "• 1 access review overdue" in text
    assert "Access reviews overdue (1): LinkedIn Dept page (due " in text
    assert "• 0 open incidents" in text and "• Last drill: none recorded" in text
    assert "Hostile" in text and "evil" in text
    assert "access check (everyone untrained" in text
    _assert_teams_inert(reply)

    n = len(fake_connector.sent())
    await running.teams_say("posture", personal=True, aad="aad-user-2")
    (refusal,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert "Only secbot admins can see the security posture summary" in card_text(refusal)


async def _overdue_review(bot, tenant: str, account, owner: str) -> None:
    """The account's access review, opened two months ago and a month past its due date."""
    now = datetime.now(UTC)
    platform, _, workspace = tenant.partition(":")
    await ReviewStore(services(bot).db).open(
        tenant=tenant, account_id=account.id, account_title=account.title, period="2026-01",
        owner_id=owner, owner_name="The Owner", place=Place(platform, workspace, "D1").to_json(),
        people=[Reviewed("id:someone", "Someone", "editor")], now=now - timedelta(days=60),
        due_on=(now - timedelta(days=30)).date(), next_reminder_at=now + timedelta(days=30),
    )  # fmt: skip


def _assert_teams_inert(activity: dict) -> None:
    assert len(json.dumps(activity, separators=(",", ":"))) <= 28_000
    assert_inert(json.dumps(activity, ensure_ascii=False))
    for content in [a.get("content") for a in activity.get("attachments") or []]:
        for block in content.get("body", []):
            # Every "<", "*" and "[" is backslash-escaped: no mention, formatting or link.
            assert not re.search(r"(?<!\\)[<*\[]", block.get("text", "")), block


async def test_posture_in_the_web_chat(running):
    register = RegisterStore(services(running).db)
    now = datetime.now(UTC)
    web_x = await register.add(
        "web:local",
        Details(platform="x", handle="@DeptWeb", team="Web team",
                owner=Person("Olu Owner", "web-b"),
                access=(Access(Person("Ann Editor", "web-c"), "admin"),),
                two_factor="security-key", recovery_email="web@dept.gov.uk",
                recovery_shared=True),
        by=ADMIN, now=now,
    )  # fmt: skip
    await register.add("web:local", hostile("web-d"), by=ADMIN, now=now)
    await _overdue_review(running, "web:local", web_x, "web-b")
    await _pass_exam(running, "web-c")

    status, body = await running.web_send(text="posture", user="web-admin", conversation="dm")
    assert status == 200 and body["ok"], body
    messages = await running.web_messages(user="web-admin", conversation="dm")
    (reply,) = [m for m in messages if m["sender"] == "bot" and "Security posture" in m["text"]]
    text = reply["text"]
    assert "This web chat" in text and "2 registered accounts in 2 owning teams." in text
    # Ann passed the exam: two of the three people with access are untrained.
    assert "• 2 of 3 people with access not trained in the last twelve months" in text
    assert "Not trained (1): Olu Owner" in text
    assert "Web team: 1 registered account" in text
    assert "• 1 access review overdue" in text
    assert "Access reviews overdue (1): X @DeptWeb (due " in text
    assert "register export (every account" in text  # typed as is in the web chat
    assert_inert(json.dumps(reply, ensure_ascii=False))

    status, body = await running.web_send(text="posture", user="web-user-1", conversation="dm")
    messages = await running.web_messages(user="web-user-1", conversation="dm")
    assert "Only secbot admins can see the security posture summary" in messages[-1]["text"]


async def _pass_exam(bot, user: str) -> None:
    """The exam taken in the web chat with every answer right (the shipped content)."""
    status, body = await bot.web_send(text="quiz exam", user=user, conversation="dm")
    q = (await bot.web_messages(user=user, conversation="dm"))[-1]
    session_id = int(value_parts(web_values(q, "quiz:session")[0])[0])
    content = services(bot).content
    for position in range(10):
        session = await store_of(bot).practice.session(session_id)
        question = session.questions[position]
        shown = question.order.index(content.item(question.item_id).correct_index)
        value = button_value(session_id, position, shown)
        status, body = await bot.web_send(
            action={"action_id": "quiz:session", "value": value, "message_id": str(q["id"])},
            user=user, conversation="dm",
        )  # fmt: skip
        assert status == 200 and body["ok"], body
        q = (await bot.web_messages(user=user, conversation="dm"))[-1]
    assert q["text"].startswith("Exam complete"), q["text"]


async def test_a_big_register_fits_every_platform_and_bounds_the_labels(
    running, fake_slack, fake_connector
):
    """30 teams with long, hostile names and 300 accounts, all with something to fix:
    the summary still fits Slack's blocks and sections and a Teams card, says how many
    teams are left out, and /metrics keeps to MAX_TEAMS team labels per tenant."""
    register = RegisterStore(services(running).db)
    now = datetime.now(UTC)
    rows = [
        Details(
            platform="x", handle=f"@acct_{n}_" + "w" * 80,
            team=f"{HOSTILE_TEAM} {n % 30} " + "long " * 30,
            owner=Person(f"Person {n} " + "n" * 90, f"U{n}"), two_factor="sms",
            recovery_email=f"p{n}@gmail.com",
        )
        for n in range(300)
    ]  # fmt: skip
    for tenant in (SLACK, "teams:tenant-1"):
        await register.apply(tenant, rows, by=ADMIN, now=now)

    await running.slash("/secbot", "posture", user="UADMIN")
    (reply,) = await fake_slack.wait_for(slack_said)
    assert len(reply["blocks"]) <= MAX_BLOCKS
    for block in reply["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION
    assert "…and 22 more teams with less to fix." in card_text(reply)
    assert "and 7 more" in card_text(reply)  # each list is short
    assert_slack_inert(reply)

    n = len(fake_connector.sent())
    await running.teams_say("posture", personal=True, aad="aad-admin")
    (card,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert "…and 22 more teams" in card_text(card)
    _assert_teams_inert(card)

    found = await eventually(lambda: scrape(running))
    teams = {dict(k[1])["team"] for k in found if k[0] == "secbot_posture_accounts"
             and dict(k[1])["tenant"] == SLACK}  # fmt: skip
    assert len(teams) == MAX_TEAMS + 1 and "(other)" in teams
    total = sum(v for k, v in found.items() if k[0] == "secbot_posture_accounts"
                and dict(k[1])["tenant"] == SLACK)  # fmt: skip
    assert total == 300
