"""People by name on incidents, and handing over with a person picker, in each front door.

Names come from the platform (Slack ``users.info``, the Teams roster and ``from.name``,
the web chat's users file), never an id such as ``web:duty-officer``; the handover and
step pickers are Slack's user menu, a Teams people picker and a list of the web chat's
users (issue 15, item 5).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.access import users_file_line
from tests import incident_support
from tests.incident_support import buttons, card_of, card_text, desk, pager, routing_env
from tests.support import (
    eventually,
    start_bot,
    stop_bot,
    teams_activity,
    web_secret,
)

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

NAMES = {
    "web-reporter": "Rosa Reporter",
    "web-team": "Priya Shah",
    "web-helper": "Sam Helper",
    "web-admin": "Ada Admin",
    "web-stranger": "Stan Stranger",
}


def named_web_users(folder: Path) -> Path:
    """A web chat users file whose people have names of their own."""
    path = folder / "named-webchat-users.txt"
    lines = [users_file_line(u, name, web_secret(u)) for u, name in NAMES.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path):
    env = {
        **slack_env,
        **routing_env(tmp_path, fake_pd.url),
        "SECBOT_WEBCHAT_USERS_FILE": str(named_web_users(tmp_path)),
    }
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)


def next_answer(values: list[str]) -> str:
    """Some answer to the triage card's current question: a symptom, then Next, then
    "Yes" where offered (any answers will do; these tests are about people)."""
    if any(v.endswith(":off") for v in values):
        nxt = [v for v in values if v.endswith("|next")]
        if nxt:
            return nxt[0]
    for ending in (":on", "|yes"):
        found = [v for v in values if v.endswith(ending)]
        if found:
            return found[0]
    return values[0]


def assert_no_ids(text: str, *ids: str) -> None:
    for ident in ids:
        assert ident not in text, f"{ident!r} shown instead of a name"


# --- the web chat ------------------------------------------------------------------------


async def web_click(bot, user: str, action: str, value: str, message_id, form=None) -> list:
    act = {"action_id": action, "value": value, "message_id": str(message_id)}
    if form is not None:
        act["form"] = form
    status, body = await bot.web_send(user=user, action=act)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user)


async def web_incident(bot, user: str = "web-reporter") -> tuple[str, int]:
    status, _ = await bot.web_send(user=user, text="compromised x @govuk")
    assert status == 200
    card = (await bot.web_messages(user=user))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for _ in range(20):
        card = next(m for m in await bot.web_messages(user=user) if m["id"] == card["id"])
        values = buttons(card["blocks"], "incident:triage")
        if not values:
            break
        await web_click(bot, user, "incident:triage", next_answer(values), card["id"])
    assert (await desk(bot).store.get(incident_id)).triage_step == "done"
    return incident_id, card["id"]


async def test_web_chat_names_and_handover_with_the_users_list(bot, fake_pd):
    incident_id, card_id = await web_incident(bot)
    await pager(bot).flush()

    # Acknowledged by name: on the incident card, on the chat page and in the store.
    await web_click(bot, "web-team", "incident:ack", incident_id, card_id)
    await fake_pd.wait_for(lambda s: s.events("acknowledge"))
    messages = await bot.web_messages(user="web-reporter")
    card = next(m for m in messages if m["id"] == card_id)
    assert "By Priya Shah at" in card_text(card["blocks"])
    assert "Rosa Reporter" in card_text(card["blocks"])  # commander and reporter

    async def page_says_name():
        await pager(bot).flush()
        found = [
            m
            for m in await bot.web_messages(user="web-reporter")
            if "Acknowledged by Priya Shah" in m["text"]
        ]
        return found

    assert await eventually(page_says_name)

    # Hand over: the card's Hand over button shows a private list of the web chat's users.
    assert buttons(card["blocks"], "incident.handover") == [incident_id]
    mine = await web_click(bot, "web-reporter", "incident.handover", incident_id, card_id)
    picker_msg = mine[-1]
    assert picker_msg["private"]
    (picker,) = [b for b in picker_msg["blocks"] if b.get("field") == "person"]
    assert picker["type"] == "select" and picker["value"] == incident_id
    assert {"label": "Sam Helper", "value": "web-helper"} in picker["choices"]
    # Someone who is not the commander can't hand over, and gets no list.
    theirs = await web_click(bot, "web-team", "incident.handover", incident_id, card_id)
    assert "Only the incident commander (Rosa Reporter) or an admin" in theirs[-1]["text"]

    await web_click(
        bot, "web-reporter", "incident.handover", incident_id, picker_msg["id"],
        form={"person": "web-helper"},
    )  # fmt: skip
    inc = await desk(bot).store.get(incident_id)
    assert (inc.commander, inc.commander_name) == ("web:web-helper", "Sam Helper")
    messages = await bot.web_messages(user="web-reporter")
    said = f"Sam Helper is now commander of {incident_id}."
    assert any(m["text"].endswith(said) for m in messages)
    card = next(m for m in messages if m["id"] == card_id)
    assert "Sam Helper" in card_text(card["blocks"])

    # A checklist step given through the same picker (the Assign control's action).
    step = (await desk(bot).store.steps.all(incident_id))[0]
    value = f"{incident_id}|{step.step_id}"
    mine = await web_click(bot, "web-team", "incident.step.assign", value, card_id)
    (picker,) = [b for b in mine[-1]["blocks"] if b.get("field") == "person"]
    assert picker["value"] == value
    await web_click(
        bot, "web-team", "incident.step.assign", value, mine[-1]["id"], form={"person": "web-team"}
    )
    assert (
        await desk(bot).store.steps.get(incident_id, step.step_id)
    ).assignee_name == "Priya Shah"
    checklist_id = (await desk(bot).store.get(incident_id)).checklist_id
    checklist = next(
        m for m in await bot.web_messages(user="web-reporter") if str(m["id"]) == checklist_id
    )
    assert "Assigned to Priya Shah" in card_text(checklist["blocks"])

    # Status and the report name people too, with no ids anywhere.
    status, _ = await bot.web_send(user="web-helper", text="compromised status")
    mine = await bot.web_messages(user="web-helper")
    assert "commander Sam Helper" in mine[-1]["text"]
    await bot.web_send(user="web-helper", text=f"compromised report {incident_id}")
    report = (await bot.web_messages(user="web-helper"))[-1]["attachment"]["content"]
    for name in ("Rosa Reporter", "Priya Shah", "Sam Helper"):
        assert name in report
    assert_no_ids(report, "web:web-team", "web:web-helper", "web:web-reporter")


# --- Slack ---------------------------------------------------------------------------------

CHANNEL = "C0PEOPLE"


def slack_posts(fake_slack) -> list[dict]:
    return fake_slack.api_calls("chat.postMessage")


async def slack_incident(bot, fake_slack) -> tuple[str, str]:
    await bot.slash("/compromised", "x @govuk", user="UREP", channel=CHANNEL)
    await fake_slack.wait_for(lambda s: slack_posts(s))
    card = slack_posts(fake_slack)[0]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    ts = await card_of(bot, incident_id)
    blocks = card["blocks"]
    for _ in range(20):
        values = buttons(blocks, "incident:triage")
        if not values:
            break
        n = len(fake_slack.api_calls("chat.update"))
        await bot.click(
            "incident:triage", next_answer(values), user="UREP", channel=CHANNEL, message_ts=ts
        )
        await fake_slack.wait_for(lambda s, n=n: len(s.api_calls("chat.update")) > n)
        blocks = [u for u in fake_slack.api_calls("chat.update") if u["ts"] == ts][-1]["blocks"]
    assert (await desk(bot).store.get(incident_id)).triage_step == "done"
    return incident_id, ts


async def slack_reply(bot, fake_slack, action) -> dict:
    """What the bot said after ``action``: a private reply (response_url) or a post."""

    replies, posts = len(fake_slack.responses()), len(slack_posts(fake_slack))
    await action()
    new = await fake_slack.wait_for(lambda s: s.responses()[replies:] + slack_posts(s)[posts:])
    return new[-1]


async def test_slack_names_from_users_info_and_handover_with_the_user_menu(
    bot, fake_slack, fake_pd
):
    fake_slack.users.update(
        {
            "UREP": "Rosa Reporter",
            "UTEAM": "Priya Shah",
            "UHELP": "Sam Helper",
            "UEVIL": "Eve\u202e <!channel> *bold*",
        }
    )
    incident_id, ts = await slack_incident(bot, fake_slack)
    assert (await desk(bot).store.get(incident_id)).reporter_name == "Rosa Reporter"

    await bot.click("incident:ack", incident_id, user="UTEAM", channel=CHANNEL, message_ts=ts)
    await fake_pd.wait_for(lambda s: s.events("acknowledge"))
    # The card is redrawn after the acknowledgement is decided (and paging told).
    await fake_slack.wait_for(
        lambda s: (
            "By Priya Shah at"
            in card_text([u for u in s.api_calls("chat.update") if u["ts"] == ts][-1]["blocks"])
        )
    )
    # Looked up once, then cached: another click by the same person asks Slack nothing.
    asked = len(fake_slack.api_calls("users.info"))
    await bot.click("incident:ack", incident_id, user="UTEAM", channel=CHANNEL, message_ts=ts)
    await fake_slack.wait_for(lambda s: len(s.responses()) > 0)
    assert len(fake_slack.api_calls("users.info")) == asked

    # Typed handover: the slash command's mention arrives escaped (should_escape).
    reply = await slack_reply(
        bot,
        fake_slack,
        lambda: bot.slash(
            "/compromised", f"assign {incident_id} <@UHELP>", user="UREP", channel=CHANNEL
        ),
    )
    assert f"Sam Helper is now commander of {incident_id}." in reply["text"]
    # A link in an escaped command is kept as the address typed. (Its reply is awaited, so
    # it cannot be taken for the reply to the click below on a busy machine.)
    said = await slack_reply(
        bot,
        fake_slack,
        lambda: bot.slash(
            "/compromised",
            f"evidence {incident_id} <https://x.com/post/1|x.com/post/1>",
            user="UHELP",
            channel=CHANNEL,
        ),
    )
    assert "added evidence" in said["text"]

    async def check():
        events = await desk(bot).store.timeline.events(incident_id)
        return [e.text for e in events if e.kind == "evidence"]

    notes = await eventually(check)
    assert notes == ["Evidence: https://x.com/post/1"]
    # Its reply follows the timeline entry: wait for it, so it isn't taken for the next.
    await fake_slack.wait_for(
        lambda s: [r for r in s.responses() + slack_posts(s) if "added evidence" in r["text"]]
    )

    # The Hand over button shows Slack's user menu, carrying the incident in its block.
    reply = await slack_reply(
        bot,
        fake_slack,
        lambda: bot.click(
            "incident.handover", incident_id, user="UHELP", channel=CHANNEL, message_ts=ts
        ),
    )
    assert reply.get("response_type") == "ephemeral", reply
    (menu,) = [
        (block["block_id"], element)
        for block in reply["blocks"]
        for element in block.get("elements", [])
        if element.get("type") == "users_select"
    ]
    block_id, element = menu
    assert element["action_id"].startswith("incident.handover")
    reply = await slack_reply(
        bot,
        fake_slack,
        lambda: bot.click(
            "incident.handover",
            "",
            user="UHELP",
            channel=CHANNEL,
            message_ts=ts,
            selected_user="UEVIL",
            block_id=block_id,
        ),  # fmt: skip
    )
    inc = await desk(bot).store.get(incident_id)
    assert inc.commander == "slack:UEVIL"
    # The name is the person's own text: inert (no bidi control) and escaped in Slack.
    assert inc.commander_name == "Eve <!channel> *bold*"
    assert "\u202e" not in reply["text"] and "<!channel>" not in reply["text"]
    assert "&lt;!channel&gt;" in reply["text"]

    # Reporter and admin words (item 6): the report is the same for everyone; an admin
    # also gets, privately, paging's detail and where it is configured.
    reply = await slack_reply(
        bot,
        fake_slack,
        lambda: bot.slash("/compromised", f"report {incident_id}", user="UREP", channel=CHANNEL),
    )
    assert not reply.get("text", "").startswith("For admins")
    await bot.slash("/compromised", f"report {incident_id}", user="UADMIN", channel=CHANNEL)
    (reply,) = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if r.get("text", "").startswith("For admins")]
    )
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith(f"For admins, paging on {incident_id}")
    assert "SECBOT_ROUTING" in reply["text"] and "duty-pd (PagerDuty)" in reply["text"]


# --- Teams ---------------------------------------------------------------------------------

REPORTER, TEAM, HELPER = "aad-reporter", "aad-team", "aad-helper"
WHO = {REPORTER: "Rosa Reporter", TEAM: "Priya Shah"}


def adaptive_cards(activities: list[dict]) -> list[dict]:
    return [
        a["attachments"][0]["content"]
        for a in activities
        if a.get("attachments") and a["attachments"][0].get("contentType", "").endswith("adaptive")
    ]


def teams_pick(bot, verb: str, value: str, data: dict, *, aad: str, reply_to_id: str):
    activity = teams_activity(
        service_url=bot.connector.url,
        activity_type="invoke",
        invoke_name="adaptiveCard/action",
        reply_to_id=reply_to_id,
        aad=aad,
        name=WHO.get(aad, "Someone"),
        value={
            "action": {
                "type": "Action.Execute",
                "verb": verb,
                "data": {"action_id": verb, "value": value, **data},
            },
            "trigger": "manual",
        },
    )
    return bot.teams(activity)


async def teams_incident(bot, fake_connector) -> tuple[str, str]:
    """The reporter starts an incident in a Teams channel and answers triage: (id, card id)."""
    status, _ = await bot.teams_say(
        "compromised threads @dept", mention=True, aad=REPORTER, name=WHO[REPORTER]
    )
    assert status in (200, 201)
    (card,) = adaptive_cards(await fake_connector.wait_for(lambda s: s.sent()))
    incident_id = buttons(card, "incident:triage")[0].split("|")[0]
    card_id = await card_of(bot, incident_id)
    for _ in range(20):
        values = buttons(card, "incident:triage")
        if not values:
            break
        await teams_pick(
            bot, "incident:triage", next_answer(values), {}, aad=REPORTER, reply_to_id=card_id
        )
        puts = [u for u in fake_connector.updates() if u.get("id") == card_id]
        card = puts[-1]["attachments"][0]["content"]
    assert (await desk(bot).store.get(incident_id)).triage_step == "done"
    return incident_id, card_id


async def test_teams_names_and_handover_with_the_people_picker(bot, fake_connector, fake_pd):
    incident_id, card_id = await teams_incident(bot, fake_connector)

    # The reporter may not acknowledge; the refusal names no file or setting (item 6).
    status, body = await teams_pick(
        bot, "incident:ack", incident_id, {}, aad=REPORTER, reply_to_id=card_id
    )
    refusal = card_text(body["value"])
    assert "ask an admin to add you to it" in refusal and "routing" not in refusal
    await teams_pick(bot, "incident:ack", incident_id, {}, aad=TEAM, reply_to_id=card_id)
    await fake_pd.wait_for(lambda s: s.events("acknowledge"))
    puts = [u for u in fake_connector.updates() if u.get("id") == card_id]
    assert "By Priya Shah at" in card_text(puts[-1])

    # The Hand over button answers with a people picker searching the directory.
    status, body = await teams_pick(
        bot, "incident.handover", incident_id, {}, aad=REPORTER, reply_to_id=card_id
    )
    assert status == 200
    picker_card = body["value"]
    (choice_set,) = [b for b in picker_card["body"] if b.get("type") == "Input.ChoiceSet"]
    assert choice_set["id"] == "person"
    assert choice_set["choices.data"] == {
        "type": "Data.Query",
        "dataset": "graph.microsoft.com/users",
    }
    assert [incident_id] == buttons(picker_card, "incident.handover")

    # The pick: the person's Entra object id, named from the conversation's roster.
    fake_connector.members[HELPER] = "Sam Helper"
    await teams_pick(
        bot, "incident.handover", incident_id, {"person": HELPER}, aad=REPORTER,
        reply_to_id=card_id,
    )  # fmt: skip
    inc = await desk(bot).store.get(incident_id)
    assert (inc.commander, inc.commander_name) == (f"teams:{HELPER}", "Sam Helper"), [
        c.path for c in fake_connector.calls
    ]
    said = await fake_connector.wait_for(
        lambda s: [
            a for a in s.sent() if f"Sam Helper is now commander of {incident_id}" in card_text(a)
        ]
    )
    assert said


def teams_say_naming(bot, text: str, *people: tuple[str, dict], aad: str = REPORTER):
    """What Teams sends when someone types ``@secbot <text>`` with @mentions of people in
    it: the text holds ``<at>Name</at>`` and an entity beside it names each person (with
    the Teams id, and sometimes the Entra object id too)."""
    activity = teams_activity(
        text, service_url=bot.connector.url, mention=True, aad=aad, name=WHO.get(aad, "Sam Helper")
    )
    for shown, mentioned in people:
        activity["entities"].append({"type": "mention", "text": shown, "mentioned": mentioned})
    return bot.teams(activity)


async def test_teams_handover_by_typed_at_mention(bot, fake_connector, fake_pd):
    """``handover @Sam Helper`` in Teams: the mention is an entity, not text, and names
    with spaces survive. It resolves to the person a pick from the people picker gives
    (keyed by Entra object id, named from the roster), with or without the incident id."""
    incident_id, _ = await teams_incident(bot, fake_connector)
    fake_connector.members[HELPER] = "Sam Helper"
    fake_connector.teams_ids["29:helper-teams-id"] = HELPER  # the roster knows both ids
    sam = ("<at>Sam Helper</at>", {"id": "29:helper-teams-id", "name": "Sam Helper"})

    # Typed in the incident's own channel, the id can be left out.
    status, _ = await teams_say_naming(bot, "compromised handover <at>Sam Helper</at>", sam)
    assert status in (200, 201)
    inc = await desk(bot).store.get(incident_id)
    assert (inc.commander, inc.commander_name) == (f"teams:{HELPER}", "Sam Helper")
    said = await fake_connector.wait_for(
        lambda s: [
            a for a in s.sent() if f"Sam Helper is now commander of {incident_id}" in card_text(a)
        ]
    )
    assert "29:helper-teams-id" not in card_text(said[-1])  # a name, never an id
    events = await desk(bot).store.timeline.events(incident_id)
    event = [e.text for e in events if e.kind == "commander"]
    assert event[-1] == "Commander is now Sam Helper"

    # A step, by id and number; this mention carries the Entra object id itself.
    fake_connector.members[TEAM] = "Priya Shah"
    priya = ("<at>Priya Shah</at>", {"id": "29:team-teams-id", "aadObjectId": TEAM,
                                     "name": "Priya Shah"})  # fmt: skip
    await teams_say_naming(
        bot, f"compromised assign {incident_id} 1 <at>Priya Shah</at>", priya, aad=HELPER
    )
    first = (await desk(bot).store.steps.all(incident_id))[0]
    assert (first.assignee, first.assignee_name) == (f"teams:{TEAM}", "Priya Shah")

    # The bot's own mention is not a person, and a typed "<@id|name>" names nobody by
    # that name: only what Teams put beside the text counts.
    await teams_say_naming(bot, f"compromised handover {incident_id} <@aad-x|The Boss>")
    inc = await desk(bot).store.get(incident_id)
    assert inc.commander == f"teams:{HELPER}" and inc.commander_name == "Sam Helper"


def test_escaped_slack_command_text_reads_as_typed():
    from bot.adapters.slack.translate import command_text

    assert command_text("assign SEC-1 <@U123|sam>") == "assign SEC-1 <@U123|sam>"
    assert command_text("assign SEC-1 <@U123>") == "assign SEC-1 <@U123>"
    assert (
        command_text("evidence SEC-1 <https://x.com/a?b=1&amp;c=2|x.com/a> in <#C1|comms>")
        == "evidence SEC-1 https://x.com/a?b=1&c=2 in #comms"
    )
    typed = command_text("close SEC-1 A &amp; B &lt;ok&gt; <!here>")
    assert typed == "close SEC-1 A & B <ok> @here"
