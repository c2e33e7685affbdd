"""The checklist by phase (issue 15, item 3), end to end in the web chat, Slack and Teams.

After triage one short message shows the first phase ("First 15 minutes") with a
progress count; the next phase opens when this one has no open steps, or on "Show
next phase"; each step has Done and a menu (Skip with a reason, Assign, Need help);
no checklist message carries more than 15 controls; closing with open steps asks
first, listing them by their text.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode

import pytest

from incidents.checklist_phases import in_order, phase_of
from tests import incident_support
from tests.incident_support import buttons, card_of, card_text, checklist_of, desk, routing_env
from tests.support import block_actions_body, eventually, start_bot, stop_bot

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack
env = incident_support.env
bot = incident_support.bot

MAX_CONTROLS = 15
# The triage answers every test here gives: rogue posts, access kept, harm live.
ANSWERS = ("symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|yes", "personal|no")
REPORTER, TEAM = "web-reporter", "web-team"


# --- counting controls in what was posted ------------------------------------------------


def web_controls(message: dict) -> int:
    """Buttons and drop-downs in a web chat message."""
    count = 0
    for block in message["blocks"]:
        if block["type"] == "actions":
            count += len(block["buttons"])
        elif block["type"] == "select":
            count += 1
    return count


def slack_controls(blocks: list[dict]) -> int:
    """Interactive elements in Block Kit: buttons, overflow menus, selects (an overflow
    menu is one element however many options it holds)."""
    count = 0
    for block in blocks:
        if block["type"] == "actions":
            count += len(block["elements"])
        elif block.get("accessory"):
            count += 1
    return count


def teams_controls(card: dict) -> int:
    """Actions and inputs a person sees on an Adaptive Card (a ShowCard is one, like an
    overflow menu: its choices show only when it is opened)."""
    count = len(card.get("actions", []))
    for element in card.get("body", []):
        if element["type"] == "ActionSet":
            count += len(element["actions"])
        elif element["type"].startswith("Input."):
            count += 1
    return count


async def expected_phase(bot, incident_id: str, phase: str) -> list[str]:
    """The open step ids of ``phase``, from the store, in checklist order."""
    steps = in_order(await desk(bot).store.steps.all(incident_id))
    return [s.step_id for s in steps if phase_of(s.phase) == phase and s.status == "open"]


async def step_text(bot, incident_id: str, step_id: str) -> str:
    step = await desk(bot).store.steps.get(incident_id, step_id)
    assert step is not None
    return step.text


# --- web chat --------------------------------------------------------------------------


async def say(bot, text: str, user: str = REPORTER) -> list[dict]:
    status, body = await bot.web_send(user=user, text=text)
    assert status == 200 and body["ok"]
    return await bot.web_messages(user=user)


async def click(bot, action: str, value: str, message_id, user: str = REPORTER) -> list[dict]:
    status, body = await bot.web_send(
        user=user, action={"action_id": action, "value": value, "message_id": str(message_id)}
    )
    assert status == 200 and body["ok"]
    return await bot.web_messages(user=user)


def by_id(messages: list[dict], message_id) -> dict:
    return next(m for m in messages if m["id"] == message_id)


def menu_values(message: dict, verb: str) -> list[str]:
    """Values of the step menus' choices for ``verb`` (skip, assign, help): in the web
    chat each menu is a drop-down after its step's Done button."""
    return [
        c["value"]
        for b in message["blocks"]
        if b["type"] == "select" and b["action_id"] == "incident:step"
        for c in b["choices"]
        if c["value"].endswith(f"|{verb}")
    ]


async def web_incident(bot) -> tuple[str, dict]:
    messages = await say(bot, "compromised x @govuk")
    card = messages[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in ANSWERS:
        messages = await click(bot, "incident:triage", f"{incident_id}|{answer}", card["id"])
    checklist = next(m for m in messages if m["text"].startswith(f"{incident_id} checklist"))
    return incident_id, checklist


async def test_web_checklist_by_phase(bot, fake_pd):
    incident_id, checklist = await web_incident(bot)
    store = desk(bot).store
    total = len(await store.steps.all(incident_id))
    first = await expected_phase(bot, incident_id, "first")
    assert 1 <= len(first) <= 5

    # One short message: the first 15 minutes, a progress count, a Done button and a
    # menu per step, and nothing from the later phases yet.
    assert checklist["text"].startswith(f"{incident_id} checklist: 0 of {total} done.")
    assert "First 15 minutes" in checklist["text"]
    shown = card_text(checklist["blocks"])
    assert f"First 15 minutes: 0 of {len(first)} done" in shown
    done_values = buttons(checklist["blocks"], "incident:done")
    assert done_values == [f"{incident_id}|{s}" for s in first]
    assert len(menu_values(checklist, "skip")) == len(first)
    later = [s for s in await store.steps.all(incident_id) if phase_of(s.phase) != "first"]
    assert not any(s.text in shown for s in later)
    assert web_controls(checklist) <= MAX_CONTROLS
    words = " ".join(
        [checklist["text"]]
        + [b.get("text", "") for b in checklist["blocks"]]
        + [line for b in checklist["blocks"] for line in b.get("lines", [])]
    )
    assert not any(s in words for s in first)  # step ids are shown nowhere

    # Done on the first step: the count goes up, in place.
    messages = await click(bot, "incident:done", done_values[0], checklist["id"], user=TEAM)
    current = by_id(messages, checklist["id"])
    assert current["text"].startswith(f"{incident_id} checklist: 1 of {total} done.")
    assert f"✓ 1. {await step_text(bot, incident_id, first[0])} — done by Web User" in card_text(
        current["blocks"]
    )
    assert web_controls(current) <= MAX_CONTROLS

    # "Need help" on the second step: the room hears it, the paged team member gets a
    # direct message, and the step shows it. Asking twice tells no one again.
    help_value = f"{incident_id}|{first[1]}|help"
    assert help_value in menu_values(current, "help")
    messages = await click(bot, "incident:step", help_value, checklist["id"], user=REPORTER)
    room_note = next(m for m in messages if "needs help with step 2" in m["text"])
    assert (
        not room_note["private"]
        and await step_text(bot, incident_id, first[1]) in room_note["text"]
    )
    assert "Commander Web User and team comms-security" in room_note["text"]
    assert messages[-1]["private"] and "have been told" in messages[-1]["text"]
    assert "on the on-call team" in messages[-1]["text"]
    assert "comms-security" not in messages[-1]["text"]  # the routing file's name
    direct = await bot.web_messages(user=TEAM, conversation="dm")
    assert [m for m in direct if "needs help with step 2" in m["text"]]
    current = by_id(messages, checklist["id"])
    assert "Help asked for by Web User" in card_text(current["blocks"])
    messages = await click(bot, "incident:step", help_value, checklist["id"], user=REPORTER)
    assert "already asked for" in messages[-1]["text"]
    assert len(await bot.web_messages(user=TEAM, conversation="dm")) == len(direct)
    assert "help" in [e.kind for e in await store.timeline.events(incident_id)]

    # Assign from the menu: a private prompt; "Assign to me" turns it into a note.
    messages = await click(
        bot, "incident:step", f"{incident_id}|{first[1]}|assign", checklist["id"], user=TEAM
    )
    prompt = messages[-1]
    assert prompt["private"] and "Who should do step 2" in prompt["text"]
    assert "compromised assign" in prompt["text"] and first[1] not in prompt["text"]
    messages = await click(
        bot, "incident:assign", buttons(prompt["blocks"], "incident:assign")[0], prompt["id"],
        user=TEAM,
    )  # fmt: skip
    assert buttons(by_id(messages, prompt["id"])["blocks"], "incident:assign") == []
    assert "Assigned to Web User" in card_text(by_id(messages, checklist["id"])["blocks"])

    # Skip from the menu: a reason menu, which becomes a line of text once used.
    for step_id in first[1:]:
        messages = await click(
            bot, "incident:step", f"{incident_id}|{step_id}|skip", checklist["id"], user=TEAM
        )
        prompt = messages[-1]
        assert prompt["private"] and prompt["blocks"][1]["type"] == "select"
        reason = f"{incident_id}|{step_id}|not-relevant"
        messages = await click(bot, "incident:reason", reason, prompt["id"], user=TEAM)
        used = by_id(messages, prompt["id"])
        assert [b["type"] for b in used["blocks"]] == ["section"]
        assert "Skipped step" in used["text"] and "Not relevant" in used["text"]
        # The used menu, chosen again (a stale copy): nothing more is skipped.
        messages = await click(bot, "incident:reason", reason, prompt["id"], user=TEAM)
        assert "is already skipped" in by_id(messages, prompt["id"])["text"]

    # The first phase has no open steps, so the next one opened by itself.
    current = by_id(await bot.web_messages(user=REPORTER), checklist["id"])
    second = [
        p for p in ("contain", "recover", "communicate", "notify", "harden")
        if await expected_phase(bot, incident_id, p)
    ][0]  # fmt: skip
    open_second = await expected_phase(bot, incident_id, second)
    shown_done = buttons(current["blocks"], "incident:done")
    assert shown_done == [f"{incident_id}|{s}" for s in open_second][: len(shown_done)]
    assert current["text"].startswith(f"{incident_id} checklist: {len(first)} of {total} done.")
    assert "✓ First 15 minutes" in card_text(current["blocks"])
    assert web_controls(current) <= MAX_CONTROLS

    # "Show next phase" opens the one after, leaving a way back.
    (show_next,) = [
        v for v in buttons(current["blocks"], "incident:phase") if not v.endswith(f"|{second}")
    ]
    messages = await click(bot, "incident:phase", show_next, checklist["id"], user=TEAM)
    current = by_id(messages, checklist["id"])
    third = show_next.split("|")[1]
    assert f"{incident_id}|{(await expected_phase(bot, incident_id, third))[0]}" in buttons(
        current["blocks"], "incident:done"
    )
    assert f"{incident_id}|{second}" in buttons(current["blocks"], "incident:phase")
    assert web_controls(current) <= MAX_CONTROLS

    # Closing with open steps asks first and lists them by their text, not their ids.
    messages = await say(bot, f"compromised close {incident_id} Recovered")
    confirm = messages[-1]
    assert confirm["private"] and "still has" in confirm["text"]
    still_open = [s for s in in_order(await store.steps.all(incident_id)) if s.status == "open"]
    assert f"{len(still_open)} open steps" in confirm["text"]
    assert still_open[0].text in confirm["text"]
    assert still_open[0].step_id not in confirm["text"]
    assert (await store.get(incident_id)).status != "closed"
    assert fake_pd.events("resolve") == []
    # "Keep it open" keeps it open; the prompt says so and loses its buttons.
    keep = [v for v in buttons(confirm["blocks"], "incident:close") if v.endswith("|cancel")]
    messages = await click(bot, "incident:close", keep[0], confirm["id"])
    assert buttons(by_id(messages, confirm["id"])["blocks"], "incident:close") == []
    assert (await store.get(incident_id)).status != "closed"
    messages = await say(bot, f"compromised close {incident_id} Recovered")
    confirm = messages[-1]
    yes = [v for v in buttons(confirm["blocks"], "incident:close") if v.endswith("|confirm")]
    messages = await click(bot, "incident:close", yes[0], confirm["id"])
    assert (await store.get(incident_id)).status == "closed"
    assert (await store.get(incident_id)).summary == "Recovered"
    await fake_pd.wait_for(lambda s: s.events("resolve"))
    final = by_id(messages, checklist["id"])
    assert buttons(final["blocks"], "incident:done") == [] and web_controls(final) == 0
    assert "Not done when it closed" in card_text(final["blocks"])


async def test_web_close_with_every_step_resolved_needs_no_confirmation(bot):
    incident_id, checklist = await web_incident(bot)
    for step in await desk(bot).store.steps.all(incident_id):
        await say(bot, f"compromised skip {incident_id} {step.step_id} Not needed here")
    current = by_id(await bot.web_messages(user=REPORTER), checklist["id"])
    assert "Every step is done or skipped." in card_text(current["blocks"])
    assert web_controls(current) == 0
    messages = await say(bot, f"compromised close {incident_id} All done")
    assert "closed by" in messages[-1]["text"] and not messages[-1]["private"]
    assert (await desk(bot).store.get(incident_id)).status == "closed"


async def test_typed_commands_name_steps_by_number(bot):
    incident_id, checklist = await web_incident(bot)
    first = await expected_phase(bot, incident_id, "first")
    messages = await say(bot, f"compromised skip {incident_id} 1 We did this yesterday")
    assert "Skipped step 1" in messages[-1]["text"]
    assert (
        await desk(bot).store.steps.get(incident_id, first[0])
    ).reason == "We did this yesterday"
    messages = await say(bot, f"compromised assign {incident_id} 2 @web-team")
    assert messages[-1]["text"].startswith(f"Step 2 on {incident_id}")
    assert (await desk(bot).store.steps.get(incident_id, first[1])).assignee == "web:web-team"
    messages = await say(bot, f"compromised skip {incident_id} 999 why")
    assert "numbered 1 to" in messages[-1]["text"]


# --- Slack -----------------------------------------------------------------------------

CHANNEL = "CINC1"


def posts(fake) -> list[dict]:
    return fake.api_calls("chat.postMessage")


def overflow_body(value: str, **kw) -> str:
    """A block_actions delivery for a choice from an overflow menu, as Slack sends it:
    the value is in ``selected_option``."""
    body = parse_qs(block_actions_body("incident:step", value, **kw))
    payload = json.loads(body["payload"][0])
    action = payload["actions"][0]
    del action["value"], action["text"]
    action.update(type="overflow", selected_option={"text": {"type": "plain_text",
                  "text": "x"}, "value": value})  # fmt: skip
    return urlencode({"payload": json.dumps(payload)})


def checklist_bodies(fake, incident_id: str) -> list[dict]:
    """Every checklist payload posted or updated."""
    sent = posts(fake) + fake.api_calls("chat.update")
    return [b for b in sent if str(b.get("text", "")).startswith(f"{incident_id} checklist")]


async def test_slack_checklist_by_phase(bot, fake_slack, fake_pd):
    await bot.slash("/compromised", "facebook @dept", user="UREP", channel=CHANNEL)
    (card,) = await fake_slack.wait_for(lambda s: posts(s))
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    ts = await card_of(bot, incident_id)
    for answer in (
        "symptoms|rogue-posts:on",
        "symptoms|next",
        "access|yes",
        "harmful|no",
        "personal|no",
    ):
        n = len(fake_slack.api_calls("chat.update"))
        await bot.click(
            "incident:triage", f"{incident_id}|{answer}", user="UREP", channel=CHANNEL,
            message_ts=ts,
        )  # fmt: skip
        await fake_slack.wait_for(lambda s, n=n: len(s.api_calls("chat.update")) > n)
    (checklist,) = await fake_slack.wait_for(lambda s: checklist_bodies(s, incident_id))
    first = await expected_phase(bot, incident_id, "first")
    assert "First 15 minutes" in checklist["text"]
    assert buttons(checklist["blocks"], "incident:done") == [f"{incident_id}|{s}" for s in first]
    overflows = [e for b in checklist["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["type"] == "overflow"]  # fmt: skip
    assert len(overflows) == len(first)
    assert [o["value"].rsplit("|", 1)[1] for o in overflows[0]["options"]] == [
        "skip", "assign", "help"
    ]  # fmt: skip

    async def check():
        return (await desk(bot).store.get(incident_id)).checklist_id

    checklist_ts = await eventually(check)

    # Skip through the overflow menu: an ephemeral reason menu, replaced once used.
    drawn = len(checklist_bodies(fake_slack, incident_id))
    n = len(fake_slack.responses())
    await bot.slack_post(
        overflow_body(f"{incident_id}|{first[0]}|skip", user="UTEAM", channel=CHANNEL,
                      message_ts=checklist_ts, response_url=fake_slack.response_url())
    )  # fmt: skip
    (prompt,) = await fake_slack.wait_for(lambda s: s.responses()[n:])
    assert prompt["response_type"] == "ephemeral"
    select = prompt["blocks"][1]["elements"][0]
    assert select["type"] == "static_select"
    reason = next(o["value"] for o in select["options"] if o["value"].endswith("|cannot"))
    n = len(fake_slack.responses())
    await bot.click(
        "incident:reason", reason, user="UTEAM", channel=CHANNEL, message_ts="1700000009.000001",
        is_ephemeral=True,
    )  # fmt: skip
    replaced = await fake_slack.wait_for(lambda s: s.responses()[n:])
    assert replaced[-1]["replace_original"] is True
    assert all(b["type"] == "section" for b in replaced[-1]["blocks"])
    assert "Skipped step 1" in replaced[-1]["text"]

    async def check():
        return (await desk(bot).store.steps.get(incident_id, first[0])).status == "skipped"

    await eventually(check)
    # The checklist is redrawn after the click is answered (on its own time): wait for it.
    await fake_slack.wait_for(lambda s: len(checklist_bodies(s, incident_id)) > drawn)
    drawn = len(checklist_bodies(fake_slack, incident_id))

    # Need help: the incident's room hears it and the paged team member gets a DM.
    await bot.slack_post(
        overflow_body(f"{incident_id}|{first[-1]}|help", user="UREP", channel=CHANNEL,
                      message_ts=checklist_ts, response_url=fake_slack.response_url())
    )  # fmt: skip
    dm = await fake_slack.wait_for(
        lambda s: [p for p in posts(s) if p["channel"] == "UTEAM" and "needs help" in p["text"]]
    )
    assert (await step_text(bot, incident_id, first[-1]))[:20] in dm[0]["text"]
    room = [p for p in posts(fake_slack) if p["channel"] == CHANNEL and "needs help" in p["text"]]
    assert room and "Commander" in room[0]["text"]
    await fake_slack.wait_for(lambda s: len(checklist_bodies(s, incident_id)) > drawn)
    drawn = len(checklist_bodies(fake_slack, incident_id))

    # Close with open steps: the ephemeral confirmation lists them; "Close anyway" closes.
    n = len(fake_slack.responses())
    await bot.slash("/compromised", f"close {incident_id} Page back", user="UREP", channel=CHANNEL)
    confirm = (await fake_slack.wait_for(
        lambda s: [r for r in s.responses()[n:] if "Close it anyway?" in r["text"]]
    ))[0]  # fmt: skip
    open_steps = in_order(
        s for s in await desk(bot).store.steps.all(incident_id) if s.status == "open"
    )
    assert confirm["response_type"] == "ephemeral"
    assert all(s.step_id not in confirm["text"] for s in open_steps)
    assert open_steps[0].text[:20] in confirm["text"]
    assert (await desk(bot).store.get(incident_id)).status != "closed"
    yes = [v for v in buttons(confirm["blocks"], "incident:close") if v.endswith("|confirm")]
    await bot.click("incident:close", yes[0], user="UREP", channel=CHANNEL,
                    message_ts="1700000010.000001", is_ephemeral=True)  # fmt: skip
    await fake_pd.wait_for(lambda s: s.events("resolve"))
    assert (await desk(bot).store.get(incident_id)).status == "closed"

    # No checklist payload ever carried more than 15 controls (the closed one redrawn too).
    await fake_slack.wait_for(lambda s: len(checklist_bodies(s, incident_id)) > drawn)
    bodies = checklist_bodies(fake_slack, incident_id)
    assert len(bodies) > 3
    for body in bodies:
        blocks = body["blocks"] if isinstance(body["blocks"], list) else json.loads(body["blocks"])
        assert slack_controls(blocks) <= MAX_CONTROLS


# --- Teams -----------------------------------------------------------------------------

AAD_REPORTER, AAD_TEAM = "aad-reporter", "aad-team"


@pytest.fixture
async def teams_bot(slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path):
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url)}
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)


def teams_cards(activities: list[dict]) -> list[dict]:
    return [
        a["attachments"][0]["content"]
        for a in activities
        if a.get("attachments") and a["attachments"][0].get("contentType", "").endswith("adaptive")
    ]


async def test_teams_checklist_by_phase(teams_bot, fake_connector, fake_pd):
    bot = teams_bot
    await bot.teams_say("compromised linkedin @dept", mention=True, aad=AAD_REPORTER)
    (card,) = teams_cards(await fake_connector.wait_for(lambda s: s.sent()))
    incident_id = buttons(card, "incident:triage")[0].split("|")[0]
    card_id = await card_of(bot, incident_id)
    for a in ANSWERS:
        await bot.teams_click(
            "incident:triage", f"{incident_id}|{a}", reply_to_id=card_id, aad=AAD_REPORTER
        )
    checklist = next(c for c in teams_cards(fake_connector.sent()) if "checklist" in card_text(c))
    first = await expected_phase(bot, incident_id, "first")
    assert "First 15 minutes" in card_text(checklist)
    assert buttons(checklist, "incident:done") == [f"{incident_id}|{s}" for s in first]
    assert teams_controls(checklist) <= MAX_CONTROLS
    show_cards = [
        a for e in checklist["body"] if e["type"] == "ActionSet" for a in e["actions"]
        if a["type"] == "Action.ShowCard"
    ]  # fmt: skip
    assert len(show_cards) == len(first)
    choices = show_cards[0]["card"]["actions"]
    assert [c["data"]["value"].rsplit("|", 1)[1] for c in choices] == ["skip", "assign", "help"]
    assert all(c["verb"] == "incident:step" for c in choices)
    checklist_id = await checklist_of(bot, incident_id)

    # Skip from the menu: the reason menu comes back as the private invoke card, and
    # choosing a reason redraws the checklist in place (without the menu).
    status, body = await bot.teams_click(
        "incident:step", f"{incident_id}|{first[0]}|skip", reply_to_id=checklist_id, aad=AAD_TEAM
    )
    assert status == 200 and "Why skip step 1" in card_text(body["value"])
    assert [e["type"] for e in body["value"]["body"]].count("Input.ChoiceSet") == 1
    n = len(fake_connector.updates())
    await bot.teams_click(
        "incident:reason", f"{incident_id}|{first[0]}|already-done", reply_to_id=checklist_id,
        aad=AAD_TEAM,
    )  # fmt: skip
    redrawn = await fake_connector.wait_for(
        lambda s: [u for u in s.updates()[n:] if u.get("id") == checklist_id]
    )
    latest = redrawn[-1]["attachments"][0]["content"]
    assert "skipped by" in card_text(latest) and "Already done before" in card_text(latest)
    assert not any(e["type"] == "Input.ChoiceSet" for e in latest["body"])
    assert (await desk(bot).store.steps.get(incident_id, first[0])).status == "skipped"

    # Need help: said in the incident's room (this channel) for the commander.
    status, body = await bot.teams_click(
        "incident:step", f"{incident_id}|{first[-1]}|help", reply_to_id=checklist_id, aad=AAD_TEAM
    )
    assert "have been told" in card_text(body["value"])
    assert [a for a in fake_connector.sent() if "needs help with step" in json.dumps(a)]

    # Close with open steps: the confirmation lists them by text.
    await bot.teams_say(f"compromised close {incident_id} Done", mention=True, aad=AAD_REPORTER)
    confirm = await fake_connector.wait_for(
        lambda s: [c for c in teams_cards(s.sent()) if "Close it anyway?" in card_text(c)]
    )
    text = card_text(confirm[0])
    open_steps = [s for s in await desk(bot).store.steps.all(incident_id) if s.status == "open"]
    assert all(s.step_id not in text for s in open_steps)
    assert (await desk(bot).store.get(incident_id)).status != "closed"
    # It came to the commander's personal chat; "Close anyway" there closes it, and the
    # incident's channel hears it.
    (yes,) = [v for v in buttons(confirm[0], "incident:close") if v.endswith("|confirm")]
    await bot.teams_click("incident:close", yes, aad=AAD_REPORTER, personal=True,
                          conversation="a:personal-rep")  # fmt: skip
    await fake_pd.wait_for(lambda s: s.events("resolve"))
    assert (await desk(bot).store.get(incident_id)).status == "closed"
    told = [
        c for c in fake_connector.calls
        if c.method == "POST" and "/19:chan@thread.tacv2/activities" in c.path
        and f"{incident_id} closed by" in json.dumps(c.body)
    ]  # fmt: skip
    assert told

    # Every checklist card posted or updated kept to 15 controls.
    bodies = [
        c for c in teams_cards(fake_connector.sent() + fake_connector.updates())
        if f"{incident_id} checklist" in card_text(c)
    ]  # fmt: skip
    assert len(bodies) >= 2
    assert all(teams_controls(c) <= MAX_CONTROLS for c in bodies)


async def test_an_unknown_menu_choice_is_refused_kindly(bot):
    incident_id, checklist = await web_incident(bot)
    first = await expected_phase(bot, incident_id, "first")
    before = len(await bot.web_messages(user=REPORTER))
    messages = await click(
        bot, "incident:step", f"{incident_id}|{first[0]}|nonsense", checklist["id"]
    )
    # The reply is among what came after the click (the incident's page to the duty
    # team may land in the same conversation just after it).
    assert any("no longer active" in m["text"] for m in messages[before:])
