"""People's rights and the audit log over Slack and Teams, end to end over loopback HTTP
(issue 18 items 6 and 7). The web chat has its own test (``test_people_rights_web``)."""

from __future__ import annotations

import base64
import csv
import io
import json
import re

import pytest
from sqlalchemy import func, insert, select

from bot.adapters.teams.file_parts import parts
from bot.audit import AuditLog, record_operator
from bot.core.clock import FakeClock
from bot.privacy.pseudonyms import erased_key, label
from bot.render.teams import MAX_CARD_BYTES
from bot.server import SERVICES
from bot.storage.sql import atomic, execute
from content.quiz.feature import Quiz
from content.quiz.store.tables import quiz_answers
from tests.quiz_support import LIBRARY, START, post_choice
from tests.support import eventually, start_bot, stop_bot

DM = "D0ADMIN"  # the admin's direct conversation with secbot


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector):
    running = await start_bot(
        slack_env,
        clock=FakeClock(START),
        slack=fake_slack,
        connector=fake_connector,
        content=LIBRARY,
    )
    yield running
    await stop_bot(running)


def quiz_store(bot):
    return bot.app[SERVICES].feature(Quiz).store


async def respond(bot, fake_slack, act, expect: str) -> dict:
    """Run ``act`` (a slash command or a click) and return its reply: the first new one
    that says ``expect`` (a reply to something earlier may still be on its way)."""
    n = len(fake_slack.responses())
    await act()
    found = await fake_slack.wait_for(
        lambda s: [r for r in s.responses()[n:] if expect in r.get("text", "")]
    )
    return found[0]


async def _audited(bot, count: int) -> bool:
    return await AuditLog(bot.app[SERVICES].db).count() >= count


async def _closed(bot, post_id: int) -> bool:
    post = await quiz_store(bot).channel.post(post_id)
    return post is not None and post.closed


def picker_block(reply: dict) -> str:
    (block_id,) = [
        block["block_id"]
        for block in reply["blocks"]
        for element in block.get("elements", [])
        if element.get("type") == "users_select"
    ]
    return block_id


def button(reply: dict, prefix: str) -> str:
    (value,) = [
        element.get("value", "")
        for block in reply["blocks"]
        for element in block.get("elements", [])
        if element.get("action_id", "").startswith(prefix)
    ]
    return value


async def count_answers(bot, key: str) -> int:
    query = select(func.count()).select_from(quiz_answers).where(quiz_answers.c.user_key == key)
    return int((await execute(bot.app[SERVICES].db, query)).scalar())


async def test_slack_export_erase_and_audit(bot, fake_slack):
    # U1 asks for a channel quiz; U2 answers it.
    await bot.slash("/quiz", "", user="U1", channel="C1")
    await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"))
    post_id = await quiz_store(bot).channel.latest_post_id()
    await bot.click("quiz:answer", await post_choice(bot, post_id, right=True), user="U2",
                    channel="C1")  # fmt: skip
    assert await eventually(lambda: count_answers(bot, "slack:U2"))
    await fake_slack.wait_for(lambda s: s.responses())  # "Correct!"

    # Not for anyone but admins; the file only in a direct message.
    reply = await respond(
        bot,
        fake_slack,
        lambda: bot.slash("/secbot", "export-person", user="U2"),
        "Only secbot admins can export or erase",
    )
    assert "Only secbot admins can export or erase" in reply["text"]
    reply = await respond(
        bot,
        fake_slack,
        lambda: bot.slash("/secbot", "export-person", user="UADMIN", channel="C1"),
        "only send it in a direct message",
    )
    assert "only send it in a direct message" in reply["text"]

    # Export: Slack's user menu, then the JSON file uploaded into the admin's DM.
    reply = await respond(
        bot,
        fake_slack,
        lambda: bot.slash("/secbot", "export-person", user="UADMIN", channel=DM),
        "Whose data should I export?",
    )
    assert reply["response_type"] == "ephemeral"
    block_id = picker_block(reply)
    await bot.click("rights:export", "", user="UADMIN", channel=DM, selected_user="U2",
                    block_id=block_id)  # fmt: skip
    (done,) = await fake_slack.wait_for(lambda s: s.api_calls("files.completeUploadExternal"))
    assert done["channel_id"] == DM
    (asked,) = fake_slack.api_calls("files.getUploadURLExternal")
    assert asked["filename"].startswith("secbot-person-") and asked["filename"].endswith(".json")
    file_id = json.loads(done["files"])[0]["id"]
    (uploaded,) = fake_slack.named(f"/upload/{file_id}")
    doc = json.loads(uploaded.body)
    assert doc["person"]["id"] == "U2" and doc["person"]["platform"] == "slack"
    (answer,) = doc["tables"]["quiz_answers"]["rows"]
    assert answer["user_key"] == "slack:U2" and answer["post_id"] == post_id
    assert doc["tables"]["quiz_answers"]["on_erasure"] == "deleted"
    await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if r["text"].startswith("Here is everything")]
    )

    # Erase: the picker, the confirmation saying what goes, then "Erase for good".
    reply = await respond(
        bot,
        fake_slack,
        lambda: bot.slash("/secbot", "erase-person", user="UADMIN", channel=DM),
        "Whose data should I erase?",
    )
    reply = await respond(
        bot,
        fake_slack,
        lambda: bot.click(
            "rights:erase",
            "",
            user="UADMIN",
            channel=DM,
            selected_user="U2",
            block_id=picker_block(reply),
        ),
        "This erases what secbot holds",
    )
    assert "1 × quiz answers: deleted" in reply["text"]
    # Slack no longer knows U2 here, so the name is the one the records give.
    assert "This erases what secbot holds about user-u2." in reply["text"]
    assert await count_answers(bot, "slack:U2") == 1  # nothing yet
    assert button(reply, "rights:confirm") == "U2"
    reply = await respond(
        bot,
        fake_slack,
        lambda: bot.click("rights:confirm", "U2", user="UADMIN", channel=DM, is_ephemeral=True),
        "Erased.",
    )
    assert reply["text"].startswith("Erased.")
    assert await count_answers(bot, "slack:U2") == 0
    post = await quiz_store(bot).channel.post(post_id)
    assert post is not None and post.posted_by == "slack:U1"  # someone else's: untouched
    # An admin closes U1's question early: an admin action on someone else's behalf.
    await bot.click("quiz:close", str(post_id), user="UADMIN", channel="C1",
                    message_ts=post.message_id)  # fmt: skip
    await eventually(lambda: _closed(bot, post_id))
    await eventually(lambda: _audited(bot, 3))

    # The audit log over Slack: listed privately, exported as CSV into the DM.
    reply = await respond(
        bot,
        fake_slack,
        lambda: bot.slash("/secbot", "audit", user="U2"),
        "Only secbot admins can read the audit log",
    )
    assert "Only secbot admins can read the audit log" in reply["text"]
    reply = await respond(
        bot,
        fake_slack,
        lambda: bot.slash("/secbot", "audit", user="UADMIN", channel="C1"),
        "Admin actions, newest first",
    )
    assert reply["response_type"] == "ephemeral"
    assert "(slack:UADMIN) via Slack exported a person's data" in reply["text"]
    assert "(slack:UADMIN) via Slack erased a person's data" in reply["text"]
    assert (
        f"(slack:UADMIN) via Slack closed someone else's quiz question early: question #{post_id}"
        in reply["text"]
    )
    await bot.slash("/secbot", "audit csv", user="UADMIN", channel=DM)
    uploads = await fake_slack.wait_for(
        lambda s: (
            len(s.api_calls("files.completeUploadExternal")) > 1
            and s.api_calls("files.completeUploadExternal")
        )
    )
    file_id = json.loads(uploads[-1]["files"])[0]["id"]
    (uploaded,) = fake_slack.named(f"/upload/{file_id}")
    rows = list(csv.reader(io.StringIO(uploaded.body)))
    assert [r[5] for r in rows[1:]] == [
        "exported a person's data",
        "erased a person's data",
        "closed someone else's quiz question early",
    ]
    assert all(r[4] == "slack" and r[3] == "slack:UADMIN" for r in rows[1:])


async def test_teams_export_erase_and_audit(bot, fake_connector):
    # Someone in Teams talks to secbot, so it holds their Teams id.
    await bot.teams_say("help", personal=True, aad="aad-user-2", user="29:user-2",
                        conversation="a:person-2")  # fmt: skip
    admin = {"personal": True, "aad": "aad-admin", "user": "29:admin", "conversation": "a:admin"}

    status, _ = await bot.teams_say("audit", personal=True, aad="aad-user-2", user="29:user-2",
                                    conversation="a:person-2")  # fmt: skip
    refusal = fake_connector.sent()[-1]
    assert "Only secbot admins can read the audit log" in json.dumps(refusal)

    n = len(fake_connector.sent())
    await bot.teams_say("export-person", **admin)
    sent = fake_connector.sent()[n:]
    assert "Whose data should I export?" in json.dumps(sent)
    n = len(fake_connector.sent())
    status, _ = await bot.teams_click("rights:export", "", typed={"person": "aad-user-2"}, **admin)
    assert status == 200

    def json_files():
        return [
            a
            for s in fake_connector.sent()[n:]
            for a in s.get("attachments", [])
            if a["contentType"] == "application/json"
        ]

    (file,) = await eventually(json_files)
    assert file["name"].startswith("secbot-person-") and file["name"].endswith(".json")
    doc = json.loads(base64.b64decode(file["contentUrl"].split(",", 1)[1]))
    assert doc["person"]["id"] == "aad-user-2" and doc["person"]["platform"] == "teams"
    (row,) = doc["tables"]["teams_users"]["rows"]
    assert row["teams_id"] == "29:user-2"
    # Their personal chat's reference, not the channel's or anyone else's.
    (chat,) = doc["tables"]["teams_conversations"]["rows"]
    assert chat["conversation_id"] == "a:person-2"

    # Erase: the pick brings the confirmation card to the personal chat; then "Erase for
    # good" (its answer replaces the card, or comes as a new message).
    n = len(fake_connector.sent())
    status, _ = await bot.teams_click("rights:erase", "", typed={"person": "aad-user-2"},
                                      **admin)  # fmt: skip
    assert status == 200
    card = json.dumps(fake_connector.sent()[n:], ensure_ascii=False)
    assert "1 × their Teams id: deleted" in card
    assert "rights:confirm" in card
    assert await teams_ids(bot, "aad-user-2") == ["29:user-2"]  # nothing yet
    n, u = len(fake_connector.sent()), len(fake_connector.updates())
    status, body = await bot.teams_click("rights:confirm", "aad-user-2", **admin)
    assert status == 200
    answer = json.dumps([body, fake_connector.sent()[n:], fake_connector.updates()[u:]])
    assert "Erased." in answer
    assert await teams_ids(bot, "aad-user-2") == []

    n = len(fake_connector.sent())
    await bot.teams_say("audit", **admin)
    listing = json.dumps(fake_connector.sent()[n:])
    assert "(teams:aad-admin) via Teams exported a person's data" in listing
    assert "(teams:aad-admin) via Teams erased a person's data" in listing

    n = len(fake_connector.sent())
    await bot.teams_say("audit csv", **admin)

    def csv_files():
        return [
            a
            for s in fake_connector.sent()[n:]
            for a in s.get("attachments", [])
            if a["contentType"] == "text/csv"
        ]

    (file,) = await eventually(csv_files)
    rows = list(
        csv.reader(io.StringIO(base64.b64decode(file["contentUrl"].split(",")[1]).decode()))
    )
    assert [r[5] for r in rows[1:]] == ["exported a person's data", "erased a person's data"]
    assert {r[4] for r in rows[1:]} == {"teams"}


async def teams_ids(bot, user_id: str) -> list[str]:
    from bot.adapters.teams.store import teams_users

    query = select(teams_users.c.teams_id).where(teams_users.c.user_id == user_id)
    return [r[0] for r in (await execute(bot.app[SERVICES].db, query)).all()]


async def test_operator_actions_are_listed_with_their_front_door(bot):
    """``record_operator`` (for ``python app.py …`` commands) keeps the door ``cli``; the
    listing says so, and user text in an entry stays plain text."""
    services = bot.app[SERVICES]
    await record_operator(
        services.db, services.clock.now(), "backed up the database", "to <!channel> \u202ex.db",
        who="ops-person",
    )  # fmt: skip
    status, body = await bot.web_send(user="web-admin", conversation="dm", text="audit")
    assert status == 200 and body["ok"]
    (listing,) = [
        m
        for m in await bot.web_messages(user="web-admin", conversation="dm")
        if m["text"].startswith("Admin actions")
    ]
    assert (
        "ops-person (cli:ops-person) via the command line backed up the database: "
        "to <!channel> x.db" in listing["text"]
    )
    assert "\u202e" not in listing["text"]


def test_pseudonyms_are_stable_per_person_per_workspace_and_keyed():
    key = b"k" * 32
    first = label(key, "T1", "slack:U2")
    assert re.fullmatch(r"Person [0-9a-f]{6}", first)
    assert label(key, "T1", "slack:U2") == first
    assert label(key, "T2", "slack:U2") != first
    assert label(key, "T1", "slack:U3") != first
    assert label(b"another key", "T1", "slack:U2") != first
    assert erased_key(key, "T1", "slack:U2") == "erased:" + first.removeprefix("Person ")


async def test_erasure_finds_chat_targets_and_never_a_longer_id(bot):
    """Paging rows name chat targets in JSON: the person's own (``U2`` on Slack) gets
    the pseudonym; ``U22``, and ``U2`` on another platform, are someone else."""
    from bot.privacy.data import Person, PersonalData
    from incidents.paging.store.rows import ts
    from incidents.paging.store.tables import paging_incidents, paging_outbox

    db = bot.app[SERVICES].db
    now = ts(bot.app[SERVICES].clock.now())  # paging keeps its times as text

    def target(platform: str, user: str) -> str:
        return json.dumps({"type": "chat", "platform": platform, "user": user})

    chain = json.dumps({"targets": {"duty": json.loads(target("slack", "U2"))}})
    await execute(db, insert(paging_incidents).values(
        incident_id="INC-1", info="{}", team="duty", chain=chain, drill=0, state="active",
        started_at=now,
    ))  # fmt: skip
    # Acknowledged by them, by name (the name the chat page shows).
    await execute(db, insert(paging_incidents).values(
        incident_id="INC-2", info="{}", team="duty", chain="{}", drill=0,
        state="acknowledged", started_at=now, acknowledged_at=now,
        acknowledged_by="slack:U2", acknowledged_by_name="Uma Two",
    ))  # fmt: skip
    for n, (platform, user) in enumerate((("slack", "U2"), ("slack", "U22"), ("web", "U2"))):
        await execute(db, insert(paging_outbox).values(
            incident_id="INC-1", step=0, repeat_round=0, target_id=f"t{n}", action="trigger",
            provider="chat", target=target(platform, user), status="sent", next_attempt_at=now,
            created_at=now,
        ))  # fmt: skip
    person = Person("slack", "T111", "U2")
    found = {f.held.table: f.rows for f in await PersonalData(db).find(person)}
    assert [r["target_id"] for r in found["paging_outbox"]] == ["t0"]
    assert sorted(r["incident_id"] for r in found["paging_incidents"]) == ["INC-1", "INC-2"]

    key = b"k" * 32
    await PersonalData(db).erase(person, key)
    rows = (await execute(db, select(paging_outbox.c.target_id, paging_outbox.c.target))).all()
    users = {t: json.loads(j)["user"] for t, j in rows}
    assert users == {"t0": erased_key(key, "T111", "slack:U2"), "t1": "U22", "t2": "U2"}
    chain_now = (await execute(db, select(paging_incidents.c.chain))).scalar()
    assert "U2" not in chain_now and erased_key(key, "T111", "slack:U2") in chain_now
    acked = (await execute(db, select(
        paging_incidents.c.acknowledged_by, paging_incidents.c.acknowledged_by_name
    ).where(paging_incidents.c.incident_id == "INC-2"))).one()  # fmt: skip
    assert tuple(acked) == (erased_key(key, "T111", "slack:U2"), label(key, "T111", "slack:U2"))
    assert await PersonalData(db).find(person) == []


async def test_a_big_audit_log_reaches_teams_in_parts_that_fit(bot, fake_connector):
    """A Teams message carries its file inline and must stay under about 26 KB: a big
    CSV goes as numbered parts that join, in order, into the whole file."""
    services = bot.app[SERVICES]
    async with atomic(services.db):  # one commit: 400 would hold up the event loop
        for n in range(400):
            await record_operator(
                services.db, services.clock.now(), "backed up the database",
                f"to /backups/secbot-{n:04d}-é.db", who="ops",
            )  # fmt: skip
    admin = {"personal": True, "aad": "aad-admin", "user": "29:admin", "conversation": "a:admin"}
    n = len(fake_connector.sent())
    status, _ = await bot.teams_say("audit csv", **admin)
    assert status < 300, status

    def csv_messages():
        found = [
            s
            for s in fake_connector.sent()[n:]
            if any(a["contentType"] == "text/csv" for a in s.get("attachments", []))
        ]
        return len(found) > 1 and found

    messages = await eventually(csv_messages)
    messages = csv_messages()
    assert all(len(json.dumps(m).encode()) < MAX_CARD_BYTES for m in messages)
    files = [a for m in messages for a in m["attachments"] if a["contentType"] == "text/csv"]
    count = len(files)
    assert [f["name"] for f in files] == [
        re.sub(r"\.csv$", f".part{i}-of-{count}.csv", files[0]["name"].split(".part")[0] + ".csv")
        for i in range(1, count + 1)
    ]
    whole = "".join(base64.b64decode(f["contentUrl"].split(",", 1)[1]).decode() for f in files)
    rows = list(csv.reader(io.StringIO(whole)))
    assert len(rows) == 401 and rows[-1][6] == "to /backups/secbot-0399-é.db"


def test_file_parts_join_into_the_whole_file():
    content = "header\n" + "".join(f"row {n}, ünïcödé\n" for n in range(50)) + "x" * 500
    pieces = parts("log.csv", content, limit=200)
    assert len(pieces) > 2 and "".join(text for _, text in pieces) == content
    assert all(len(text.encode()) <= 200 for _, text in pieces)
    assert pieces[0][0] == f"log.part1-of-{len(pieces)}.csv"
    assert parts("small.json", "{}") == [("small.json", "{}")]
