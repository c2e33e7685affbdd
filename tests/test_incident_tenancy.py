"""Every incident belongs to its tenant and its people (issue 12, item 2), over HTTP.

Signed Slack requests from two workspaces (and a Grid org), Teams activities from two
tenants and web chat users: nobody outside an incident sees or changes it, even with
its exact id, and the refusal is word for word the one for a made-up id.
"""

from __future__ import annotations

from tests import incident_support
from tests.incident_support import buttons, card_text, desk

# Fakes that wait long enough on a busy CI machine.
fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack
env = incident_support.env
bot = incident_support.bot

MADE_UP = "SEC-2026-9999"


def same_words(refusal: str, ident: str) -> str:
    """The refusal with the id the person typed taken out, to compare shapes."""
    return refusal.replace(ident, "<id>")


# --- Slack: two workspaces ------------------------------------------------------------


async def slack_say(bot, fake_slack, text: str, **kw) -> dict:
    """Run /compromised and return the private answer it gets through response_url."""
    n = len(fake_slack.responses())
    await bot.slash("/compromised", text, **kw)
    got = await fake_slack.wait_for(lambda s: len(s.responses()) > n and s.responses())
    return got[n]


async def slack_click(bot, fake_slack, action: str, value: str, **kw) -> dict:
    n = len(fake_slack.responses())
    await bot.click(action, value, **kw)
    got = await fake_slack.wait_for(lambda s: len(s.responses()) > n and s.responses())
    return got[n]


async def start_in_slack(bot, fake_slack, user: str, team: str, **kw) -> str:
    n = len(fake_slack.api_calls("chat.postMessage"))
    await bot.slash("/compromised", "x @govuk", user=user, team=team, channel="CA", **kw)
    await fake_slack.wait_for(lambda s: len(s.api_calls("chat.postMessage")) > n)
    post = fake_slack.api_calls("chat.postMessage")[-1]
    return buttons(post["blocks"], "incident:triage")[0].split("|")[0]


async def test_another_slack_workspace_cannot_see_or_touch_an_incident(bot, fake_slack):
    incident_id = await start_in_slack(bot, fake_slack, "UREP", "TAAA")
    store = desk(bot).store
    assert (await store.get(incident_id)).tenant == "slack:TAAA"

    # From workspace B, the exact id gets exactly the words a made-up id gets, for
    # every command that names an incident; and nothing changes.
    commands = [
        "report {id}",
        "evidence {id} https://example.com/x",
        "assign {id} @UB",
        "handle {id} @stolen",
        "skip {id} contain-password because",
        "flag {id} fraud",
        "severity {id} 1",
        "close {id} done",
        "ack {id}",
        "add {id} @UB",
        "people {id}",
    ]
    for user in ("UB", "UADMIN"):  # an admin of secbot is no admin in another workspace
        for command in commands:
            real = await slack_say(
                bot, fake_slack, command.format(id=incident_id), user=user, team="TBBB"
            )
            fake = await slack_say(bot, fake_slack, command.format(id=MADE_UP), user=user,
                                   team="TBBB")  # fmt: skip
            assert same_words(real["text"], incident_id) == same_words(fake["text"], MADE_UP)
            assert real["response_type"] == fake["response_type"] == "ephemeral"
            assert same_words(str(real["blocks"]), incident_id) == same_words(
                str(fake["blocks"]), MADE_UP
            )
            assert "can't find incident" in real["text"]
    # A triage click from workspace B with the real card's value is refused too.
    clicked = await slack_click(
        bot, fake_slack, "incident:triage", f"{incident_id}|symptoms|rogue-posts:on",
        user="UB", team="TBBB", channel="CA",
    )  # fmt: skip
    assert "can't find incident" in clicked["text"]
    inc = await store.get(incident_id)
    assert inc.symptoms == () and inc.account == "@govuk" and inc.flags == ()
    assert inc.commander == "slack:UREP" and inc.is_open
    assert [e.kind for e in await store.timeline.events(incident_id)] == ["start"]

    # status in B lists nothing; in A the reporter sees it, and so does an admin.
    listed = await slack_say(bot, fake_slack, "status", user="UADMIN", team="TBBB")
    assert incident_id not in listed["text"]
    listed = await slack_say(bot, fake_slack, "status", user="UREP", team="TAAA")
    assert incident_id in listed["text"]
    listed = await slack_say(bot, fake_slack, "status", user="UADMIN", team="TAAA")
    assert incident_id in listed["text"]


async def test_grid_org_shares_incidents_between_its_workspaces(bot, fake_slack):
    incident_id = await start_in_slack(bot, fake_slack, "UREP", "TAAA", enterprise="EORG")
    assert (await desk(bot).store.get(incident_id)).tenant == "slack:EORG"
    # An admin in another workspace of the same org sees it; in another org, not.
    listed = await slack_say(bot, fake_slack, "status", user="UADMIN", team="TCCC",
                             enterprise="EORG")  # fmt: skip
    assert incident_id in listed["text"]
    listed = await slack_say(bot, fake_slack, "status", user="UADMIN", team="TAAA",
                             enterprise="EOTHER")  # fmt: skip
    assert incident_id not in listed["text"]


# --- Teams: two tenants ---------------------------------------------------------------


async def teams_say(bot, fake_connector, text: str, aad: str, tenant: str) -> str:
    """Say something in a personal chat; returns the text of the answer."""
    n = len(fake_connector.sent())
    await bot.teams_say(
        text, personal=True, aad=aad, tenant=tenant, conversation=f"a:personal-{aad}"
    )
    sent = await fake_connector.wait_for(lambda s: len(s.sent()) > n and s.sent())
    answer = sent[n]
    return card_text({"text": answer.get("text"), "attachments": answer.get("attachments")})


async def test_another_teams_tenant_cannot_see_or_touch_an_incident(bot, fake_connector):
    await teams_say(bot, fake_connector, "compromised threads @dept", "aad-reporter", "tenant-a")
    (inc,) = await desk(bot).store.open_incidents()
    assert inc.tenant == "teams:tenant-a"
    for aad in ("aad-other", "aad-admin"):
        for command in ("report {id}", "evidence {id} note", "flag {id} fraud", "ack {id}"):
            real = await teams_say(
                bot, fake_connector, "compromised " + command.format(id=inc.id), aad, "tenant-b"
            )
            fake = await teams_say(
                bot, fake_connector, "compromised " + command.format(id=MADE_UP), aad, "tenant-b"
            )
            assert same_words(real, inc.id) == same_words(fake, MADE_UP)
            assert "can't find incident" in real
        listed = await teams_say(bot, fake_connector, "compromised status", aad, "tenant-b")
        assert inc.id not in listed
    # A card click from the other tenant: the invoke response is the same refusal.
    status, body = await bot.teams_click(
        "incident:triage", f"{inc.id}|symptoms|rogue-posts:on", reply_to_id=inc.card_id,
        aad="aad-other", tenant="tenant-b",
    )  # fmt: skip
    assert status == 200 and "can't find incident" in card_text(body)
    assert (await desk(bot).store.get(inc.id)).symptoms == ()
    listed = await teams_say(bot, fake_connector, "compromised status", "aad-admin", "tenant-a")
    assert inc.id in listed


# --- web chat: people of an incident, in the same workspace ---------------------------


async def web_say(bot, text: str, user: str) -> dict:
    status, body = await bot.web_send(user=user, text=text)
    assert status == 200 and body["ok"]
    return (await bot.web_messages(user=user))[-1]


async def web_click(bot, action: str, value: str, message_id: int, user: str) -> dict:
    status, body = await bot.web_send(
        user=user, action={"action_id": action, "value": value, "message_id": str(message_id)}
    )
    assert status == 200 and body["ok"]
    return (await bot.web_messages(user=user))[-1]


async def test_only_the_people_of_an_incident_act_on_it(bot):
    card = await web_say(bot, "compromised x @govuk", "web-reporter")
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    store = desk(bot).store

    # Someone else in the same room: every command and click gets the made-up-id words.
    for command in (
        "report {id}",
        "evidence {id} https://example.com/x",
        "assign {id} @web-nosy",
        "assign {id} contain-password @web-nosy",
        "handle {id} @stolen",
        "skip {id} contain-password because",
        "flag {id} fraud",
        "people {id}",
    ):
        real = await web_say(bot, "compromised " + command.format(id=incident_id), "web-nosy")
        fake = await web_say(bot, "compromised " + command.format(id=MADE_UP), "web-nosy")
        assert real["private"] and "can't find incident" in real["text"]
        assert same_words(real["text"], incident_id) == same_words(fake["text"], MADE_UP)
        assert same_words(str(real["blocks"]), incident_id) == same_words(
            str(fake["blocks"]), MADE_UP
        )
    # handle without an id doesn't pick someone else's incident either.
    mine = await web_say(bot, "compromised handle @stolen", "web-nosy")
    assert "no open incident here" in mine["text"]
    for answer in ("symptoms|rogue-posts:on", "symptoms|next"):
        refused = await web_click(
            bot, "incident:triage", f"{incident_id}|{answer}", card["id"], "web-nosy"
        )
        assert "can't find incident" in refused["text"]
    inc = await store.get(incident_id)
    assert inc.symptoms == () and inc.account == "@govuk" and inc.flags == ()
    assert inc.triage_step == "symptoms" and inc.commander == "web:web-reporter"
    assert [e.kind for e in await store.timeline.events(incident_id)] == ["start"]
    listed = await web_say(bot, "compromised status", "web-nosy")
    assert incident_id not in listed["text"]

    # An admin can act; the reporter can add someone, who then can too.
    done = await web_say(bot, f"compromised evidence {incident_id} seen by admin", "web-admin")
    assert "added evidence" in done["text"]
    added = await web_say(bot, f"compromised add {incident_id} @web-helper", "web-reporter")
    # Named from the web chat's users file, not by id (issue 15, item 5).
    assert "Web User can now see and work on" in added["text"]
    await web_click(
        bot, "incident:triage", f"{incident_id}|symptoms|rogue-posts:on", card["id"], "web-helper"
    )
    assert (await store.get(incident_id)).symptoms == ("rogue-posts",)
    people = await web_say(bot, f"compromised people {incident_id}", "web-helper")
    assert "Web User (added)" in people["text"] and "reported it" in people["text"]
    listed = await web_say(bot, "compromised status", "web-helper")
    assert incident_id in listed["text"]
    # Adding is not handing over: only the commander or an admin can close.
    refused = await web_say(bot, f"compromised close {incident_id} done", "web-helper")
    assert "Only the incident commander" in refused["text"]


async def test_a_person_given_a_step_or_command_joins_the_incident(bot):
    card = await web_say(bot, "compromised x @govuk", "web-reporter")
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in (
        "symptoms|rogue-posts:on",
        "symptoms|next",
        "access|yes",
        "harmful|no",
        "personal|no",
    ):
        await web_click(bot, "incident:triage", f"{incident_id}|{answer}", card["id"],
                        "web-reporter")  # fmt: skip
    before = len(await bot.web_messages(user="web-new-lead"))
    await web_say(bot, f"compromised report {incident_id}", "web-new-lead")
    # Among what came after (the incident's page to the duty team may land just after it).
    after = (await bot.web_messages(user="web-new-lead"))[before:]
    assert any("can't find incident" in m["text"] for m in after)
    await web_say(bot, f"compromised assign {incident_id} @web-new-lead", "web-reporter")
    report = await web_say(bot, f"compromised report {incident_id}", "web-new-lead")
    assert report["attachment"]["filename"] == f"{incident_id}-report.md"
    step = f"compromised assign {incident_id} contain-password @web-step"
    await web_say(bot, step, "web-new-lead")
    done = await web_say(bot, f"compromised evidence {incident_id} logs", "web-step")
    assert "added evidence" in done["text"]
    # The paged team (routing file members) sees it; the old commander still does.
    listed = await web_say(bot, "compromised status", "web-team")
    assert incident_id in listed["text"]
    listed = await web_say(bot, "compromised status", "web-reporter")
    assert incident_id in listed["text"]


async def test_paged_team_and_admins_may_see_and_nobody_else(bot):
    card = await web_say(bot, "compromised x @govuk", "web-reporter")
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in (
        "symptoms|rogue-posts:on",
        "symptoms|next",
        "access|yes",
        "harmful|no",
        "personal|no",
    ):
        await web_click(bot, "incident:triage", f"{incident_id}|{answer}", card["id"],
                        "web-reporter")  # fmt: skip
    for user in ("web-team", "web-admin"):  # in the routing file's team; in SECBOT_ADMINS
        await web_say(bot, f"compromised report {incident_id}", user)
        mine = await bot.web_messages(user=user)
        report = [m for m in mine if m.get("attachment")][-1]
        assert report["attachment"]["filename"] == f"{incident_id}-report.md"
    refused = await web_say(bot, f"compromised report {incident_id}", "web-nosy")
    assert "can't find incident" in refused["text"] and not refused.get("attachment")
    # The checklist's buttons are in the shared room, but only its people may press them.
    messages = await bot.web_messages(user="web-reporter")
    checklist = next(m for m in messages if m["text"].startswith(f"{incident_id} checklist"))
    for action in ("incident:done", "incident:skip", "incident:assign"):
        refused = await web_click(
            bot, action, f"{incident_id}|contain-password", checklist["id"], "web-nosy"
        )
        assert "can't find incident" in refused["text"]
    step = await desk(bot).store.steps.get(incident_id, "contain-password")
    assert step.status == "open" and step.assignee is None
    await web_click(bot, "incident:done", f"{incident_id}|contain-password", checklist["id"],
                    "web-team")  # fmt: skip
    assert (await desk(bot).store.steps.get(incident_id, "contain-password")).status == "done"
