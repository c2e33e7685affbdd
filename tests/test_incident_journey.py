"""Issue 15's "Done when": a non-technical reporter in Slack, Teams and the web chat,
from "we've been hacked" to a closed incident.

Each test plays the reporter (and, after the handover, the colleague they hand over to)
over loopback HTTP against the real app and the fake platform servers, and checks what a
person would see: the texts and names on the messages, never ids, settings names or file
names. One driver per front door (:class:`SlackDoor`, :class:`TeamsDoor`,
:class:`WebDoor`) speaks that platform's wire format; the journeys are written once.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import pytest

from bot.core.access import users_file_line
from tests import incident_support
from tests.incident_support import buttons, card_of, checklist_of, desk, routing_env
from tests.support import eventually, start_bot, stop_bot, teams_activity, web_secret

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

REPORTER_NAME, COLLEAGUE_NAME, TEAM_NAME = "Rosa Reporter", "Sam Helper", "Priya Shah"
# The first steps of a hijack where the team may be locked out, as the reporter reads
# them, in the safe order: the recovery route, then tell the security team and the press
# office, stop scheduled posts, and capture evidence before anything is removed.
LOCKED_OUT_ORDER = (
    "help page for a hacked account",
    "security team and your press office",
    "Stop scheduled posts",
    "Take screenshots before you remove or delete anything",
)
# Words a reporter should never be shown: settings, files, people's keys.
NEVER_SHOWN = ("SECBOT_", "routing", ".yml", ".yaml", "playbook", "slack:", "teams:", "web:")


# --- what a person sees ----------------------------------------------------------------

# Keys whose strings a person reads, in Block Kit, Adaptive Cards and the web chat's
# JSON; under "fields" and "facts" a value is read too (a fact's value is shown), and
# a structural key (a block's type, a button's value or action id) never is.
VISIBLE = {"text", "title", "label", "lines", "placeholder", "spoken", "alt_text", "fallback"}
READ_WHOLE = {"fields", "facts"}
STRUCTURE = {"type", "style", "action_id", "block_id", "verb", "url", "id", "ts", "channel"}


def seen(node: Any, visible: bool = False, whole: bool = False) -> list[str]:
    """The strings in rendered messages that a person reads: not button values,
    action ids, block ids or addresses."""
    if isinstance(node, str):
        if visible:
            return [node]
        if node.strip().startswith("["):  # Slack blocks sent as a JSON string
            try:
                return seen(json.loads(node))
            except ValueError:
                return []
        return []
    if isinstance(node, list):
        return [s for item in node for s in seen(item, visible, whole)]
    if isinstance(node, dict):
        found: list[str] = []
        for key, value in node.items():
            if key in STRUCTURE or (key == "value" and not whole):
                continue
            inner = whole or key in READ_WHOLE
            found += seen(value, visible or inner or key in VISIBLE, inner)
        return found
    return []


def assert_plain(texts: list[str], *ids: str) -> None:
    """Nothing a person read names an id, a setting or a file."""
    everything = "\n".join(texts)
    for word in (*NEVER_SHOWN, *ids):
        assert word not in everything, f"{word!r} shown to a person: " + next(
            t for t in texts if word in t
        )


def in_order(text: str, phrases: tuple[str, ...]) -> None:
    places = [text.find(p) for p in phrases]
    assert -1 not in places, [p for p, i in zip(phrases, places, strict=True) if i == -1]
    assert places == sorted(places), f"first steps out of order: {phrases}"


# --- the front doors ---------------------------------------------------------------------


class Door(ABC):
    """One platform as the reporter meets it. ``start`` returns the incident id."""

    reporter: str
    colleague: str
    team: str

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.asked: list[str] = []  # each triage question as the reporter saw it

    def name_people(self) -> None:
        """Give the people names on the platform (the web chat's are in its users file,
        so by default there is nothing to do)."""
        return None

    def store(self) -> Any:
        return desk(self.bot).store

    @abstractmethod
    async def start(self, words: str) -> str: ...

    async def answer(self, incident_id: str, *answers: str) -> None:
        """Press each triage answer ("step|choice") in turn, noting each question."""
        for a in answers:
            self.asked.append("\n".join(seen(await self.card(incident_id))))
            await self.press(incident_id, a)

    @abstractmethod
    async def card(self, incident_id: str) -> Any:
        """The incident's card (the triage questions, then the incident) as it is now."""
        ...

    @abstractmethod
    async def press(self, incident_id: str, answer: str) -> None: ...

    @abstractmethod
    async def checklist(self, incident_id: str) -> Any:
        """The latest checklist message."""
        ...

    @abstractmethod
    async def done(self, incident_id: str, value: str) -> None: ...

    @abstractmethod
    async def hand_over(self, incident_id: str) -> list[str]:
        """Hand over to the colleague with the person picker; what the picker showed."""
        ...

    @abstractmethod
    async def close(self, incident_id: str, summary: str) -> str:
        """Close as the colleague (now the commander); returns the confirmation's text,
        after pressing its "Close anyway"."""
        ...

    @abstractmethod
    async def everything_seen(self) -> list[str]: ...

    def ids(self) -> tuple[str, ...]:
        return (self.reporter, self.colleague, self.team)


CHANNEL = "C0JOURNEY"


class SlackDoor(Door):
    reporter, colleague, team = "UREP", "UHELP", "UTEAM"

    def __init__(self, bot: Any, fake: Any) -> None:
        super().__init__(bot)
        self.fake = fake

    def name_people(self) -> None:
        self.fake.users.update(
            {self.reporter: REPORTER_NAME, self.colleague: COLLEAGUE_NAME, self.team: TEAM_NAME}
        )

    def posts(self) -> list[dict]:
        return self.fake.api_calls("chat.postMessage")

    async def start(self, words: str) -> str:
        before = len(self.posts())
        await self.bot.slash("/compromised", words, user=self.reporter, channel=CHANNEL)
        await self.fake.wait_for(lambda s: len(self.posts()) > before)
        card = self.posts()[before]
        return buttons(card["blocks"], "incident:triage")[0].split("|")[0]

    async def card(self, incident_id: str) -> Any:
        ts = await card_of(self.bot, incident_id)
        redrawn = [u for u in self.fake.api_calls("chat.update") if u.get("ts") == ts]
        if redrawn:
            return redrawn[-1]
        return next(p for p in self.posts() if buttons(p["blocks"], "incident:triage"))

    async def press(self, incident_id: str, answer: str) -> None:
        ts = await card_of(self.bot, incident_id)
        n = len(self.fake.api_calls("chat.update"))
        await self.bot.click(
            "incident:triage", f"{incident_id}|{answer}", user=self.reporter, channel=CHANNEL,
            message_ts=ts,
        )  # fmt: skip
        await self.fake.wait_for(lambda s: len(s.api_calls("chat.update")) > n)

    async def checklist(self, incident_id: str) -> Any:
        async def check():
            return (await self.store().get(incident_id)).checklist_id

        ts = await eventually(check)
        sent = self.posts() + self.fake.api_calls("chat.update")
        return [b for b in sent if b.get("ts") == ts or _starts(b, f"{incident_id} checklist")][-1]

    async def done(self, incident_id: str, value: str) -> None:
        ts = await checklist_of(self.bot, incident_id)
        step = value.split("|")[1]
        await self.bot.click(
            "incident:done", value, user=self.reporter, channel=CHANNEL, message_ts=ts
        )

        async def check():
            return (await self.store().steps.get(incident_id, step)).status == "done"

        await eventually(check)

    async def hand_over(self, incident_id: str) -> list[str]:
        ts = await card_of(self.bot, incident_id)
        n = len(self.fake.responses())
        await self.bot.click(
            "incident.handover", incident_id, user=self.reporter, channel=CHANNEL, message_ts=ts
        )
        (reply,) = (await self.fake.wait_for(lambda s: s.responses()[n:]))[:1]
        assert reply.get("response_type") == "ephemeral", reply  # only the reporter sees it
        (block_id,) = [
            b["block_id"]
            for b in reply["blocks"]
            for e in b.get("elements", [])
            if e.get("type") == "users_select"
        ]
        await self.bot.click(
            "incident.handover", "", user=self.reporter, channel=CHANNEL, message_ts=ts,
            selected_user=self.colleague, block_id=block_id,
        )  # fmt: skip

        async def check():
            return (await self.store().get(incident_id)).commander_name == COLLEAGUE_NAME

        await eventually(check)
        return seen(reply)

    async def close(self, incident_id: str, summary: str) -> str:
        n = len(self.fake.responses())
        await self.bot.slash(
            "/compromised", f"close {incident_id} {summary}", user=self.colleague, channel=CHANNEL
        )
        (confirm,) = (
            await self.fake.wait_for(
                lambda s: [r for r in s.responses()[n:] if buttons(r.get("blocks", []),
                                                                   "incident:close")]
            )
        )[:1]  # fmt: skip
        assert confirm["response_type"] == "ephemeral"
        (yes,) = [v for v in buttons(confirm["blocks"], "incident:close") if v.endswith("confirm")]
        await self.bot.click(
            "incident:close", yes, user=self.colleague, channel=CHANNEL,
            message_ts="1700000099.000001", is_ephemeral=True,
        )  # fmt: skip
        return "\n".join(seen(confirm))

    async def everything_seen(self) -> list[str]:
        sent = self.posts() + self.fake.api_calls("chat.update") + self.fake.responses()
        return seen(sent)


def _starts(body: dict, prefix: str) -> bool:
    return str(body.get("text", "")).startswith(prefix)


class TeamsDoor(Door):
    reporter, colleague, team = "aad-reporter", "aad-helper", "aad-team"
    NAMES = {"aad-reporter": REPORTER_NAME, "aad-helper": COLLEAGUE_NAME, "aad-team": TEAM_NAME}

    def __init__(self, bot: Any, fake: Any) -> None:
        super().__init__(bot)
        self.fake = fake
        self.private: list[Any] = []  # invoke responses: cards only the clicker sees

    def cards(self, activities: list[dict] | None = None) -> list[dict]:
        acts = self.fake.sent() + self.fake.updates() if activities is None else activities
        return [
            a["attachments"][0]["content"]
            for a in acts
            if a.get("attachments")
            and a["attachments"][0].get("contentType", "").endswith("adaptive")
        ]

    def name_people(self) -> None:
        self.fake.members.update(self.NAMES)

    async def invoke(
        self, verb: str, value: str, data: dict | None = None, *, aad: str, **kw: Any
    ) -> Any:
        activity = teams_activity(
            service_url=self.bot.connector.url,
            activity_type="invoke",
            invoke_name="adaptiveCard/action",
            aad=aad,
            user=f"29:{aad}",
            name=self.NAMES[aad],
            value={
                "action": {
                    "type": "Action.Execute",
                    "verb": verb,
                    "data": {"action_id": verb, "value": value, **(data or {})},
                },
                "trigger": "manual",
            },
            **kw,
        )
        status, body = await self.bot.teams(activity)
        assert status == 200, (status, body)
        if isinstance(body, dict) and body.get("value"):
            self.private.append(body["value"])
        return body

    async def say(self, text: str, aad: str, **kw: Any) -> None:
        status, _ = await self.bot.teams_say(
            text, aad=aad, user=f"29:{aad}", name=self.NAMES[aad], **kw
        )
        assert status in (200, 201)

    async def start(self, words: str) -> str:
        # A mention that names no command: the bot offers to start.
        await self.say(words, self.reporter, mention=True)
        offers = await self.fake.wait_for(
            lambda s: [c for c in self.cards(s.sent()) if buttons(c, "incident:offer")]
        )
        (value,) = buttons(offers[0], "incident:offer")
        n = len(self.fake.sent())
        await self.invoke("incident:offer", value, aad=self.reporter, reply_to_id="offer-1")
        started = await self.fake.wait_for(
            lambda s: [c for c in self.cards(s.sent()[n:]) if buttons(c, "incident:triage")]
        )
        return buttons(started[0], "incident:triage")[0].split("|")[0]

    async def card(self, incident_id: str) -> Any:
        card_id = await card_of(self.bot, incident_id)
        redrawn = [u for u in self.fake.updates() if u.get("id") == card_id]
        if redrawn:
            return self.cards(redrawn)[-1]
        return next(c for c in self.cards(self.fake.sent()) if buttons(c, "incident:triage"))

    async def press(self, incident_id: str, answer: str) -> None:
        card_id = await card_of(self.bot, incident_id)
        await self.invoke(
            "incident:triage", f"{incident_id}|{answer}", aad=self.reporter, reply_to_id=card_id
        )

    async def checklist(self, incident_id: str) -> Any:
        async def check():
            return (await self.store().get(incident_id)).checklist_id

        checklist_id = await eventually(check)
        redrawn = [u for u in self.fake.updates() if u.get("id") == checklist_id]
        if redrawn:
            return self.cards(redrawn)[-1]
        return [c for c in self.cards(self.fake.sent()) if f"{incident_id} checklist" in
                " ".join(seen(c))][-1]  # fmt: skip

    async def done(self, incident_id: str, value: str) -> None:
        checklist_id = (await self.store().get(incident_id)).checklist_id
        await self.invoke("incident:done", value, aad=self.reporter, reply_to_id=checklist_id)
        step = value.split("|")[1]

        async def check():
            return (await self.store().steps.get(incident_id, step)).status == "done"

        await eventually(check)

    async def hand_over(self, incident_id: str) -> list[str]:
        card_id = await card_of(self.bot, incident_id)
        body = await self.invoke(
            "incident.handover", incident_id, aad=self.reporter, reply_to_id=card_id
        )
        picker = body["value"]
        assert [b for b in picker["body"] if b.get("type") == "Input.ChoiceSet"]
        await self.invoke(
            "incident.handover", incident_id, {"person": self.colleague}, aad=self.reporter,
            reply_to_id=card_id,
        )  # fmt: skip

        async def check():
            return (await self.store().get(incident_id)).commander_name == COLLEAGUE_NAME

        await eventually(check)
        return seen(picker)

    async def close(self, incident_id: str, summary: str) -> str:
        n = len(self.fake.sent())
        await self.say(f"compromised close {incident_id} {summary}", self.colleague, mention=True)
        confirm = await self.fake.wait_for(
            lambda s: [c for c in self.cards(s.sent()[n:]) if buttons(c, "incident:close")]
        )
        (yes,) = [v for v in buttons(confirm[0], "incident:close") if v.endswith("confirm")]
        await self.invoke(
            "incident:close", yes, aad=self.colleague, personal=True,
            conversation="a:personal-helper",
        )  # fmt: skip
        return "\n".join(seen(confirm[0]))

    async def everything_seen(self) -> list[str]:
        return seen(self.fake.sent() + self.fake.updates()) + seen(self.private)


WEB_NAMES = {
    "web-reporter": REPORTER_NAME,
    "web-helper": COLLEAGUE_NAME,
    "web-team": TEAM_NAME,
}


def named_web_users(folder: Path) -> Path:
    """The web chat's users file, with the people's own names."""
    path = folder / "journey-webchat-users.txt"
    lines = [users_file_line(u, name, web_secret(u)) for u, name in WEB_NAMES.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class WebDoor(Door):
    reporter, colleague, team = "web-reporter", "web-helper", "web-team"

    async def send(self, user: str, *, text: str | None = None, action: dict | None = None):
        status, body = await self.bot.web_send(user=user, text=text, action=action)
        assert status == 200 and body["ok"], body
        return await self.bot.web_messages(user=user)

    async def click(self, user: str, action: str, value: str, message_id, form=None):
        act = {"action_id": action, "value": value, "message_id": str(message_id)}
        if form is not None:
            act["form"] = form
        return await self.send(user, action=act)

    async def start(self, words: str) -> str:
        offer = (await self.send(self.reporter, text=words))[-1]
        (value,) = buttons(offer["blocks"], "incident:offer")
        card = (await self.click(self.reporter, "incident:offer", value, offer["id"]))[-1]
        return buttons(card["blocks"], "incident:triage")[0].split("|")[0]

    async def card(self, incident_id: str) -> Any:
        card_id = await card_of(self.bot, incident_id)
        messages = await self.bot.web_messages(user=self.reporter)
        return next(m for m in messages if str(m["id"]) == str(card_id))

    async def press(self, incident_id: str, answer: str) -> None:
        card_id = await card_of(self.bot, incident_id)
        await self.click(self.reporter, "incident:triage", f"{incident_id}|{answer}", card_id)

    async def checklist(self, incident_id: str) -> Any:
        async def check():
            return (await self.store().get(incident_id)).checklist_id

        checklist_id = await eventually(check)
        messages = await self.bot.web_messages(user=self.reporter)
        return next(m for m in messages if str(m["id"]) == str(checklist_id))

    async def done(self, incident_id: str, value: str) -> None:
        checklist_id = (await self.store().get(incident_id)).checklist_id
        await self.click(self.reporter, "incident:done", value, checklist_id)

    async def hand_over(self, incident_id: str) -> list[str]:
        card_id = await card_of(self.bot, incident_id)
        picker = (await self.click(self.reporter, "incident.handover", incident_id, card_id))[-1]
        assert picker["private"]
        await self.click(
            self.reporter, "incident.handover", incident_id, picker["id"],
            form={"person": self.colleague},
        )  # fmt: skip
        return seen(picker)

    async def close(self, incident_id: str, summary: str) -> str:
        confirm = (
            await self.send(self.colleague, text=f"compromised close {incident_id} {summary}")
        )[-1]
        assert confirm["private"]
        (yes,) = [v for v in buttons(confirm["blocks"], "incident:close") if v.endswith("confirm")]
        await self.click(self.colleague, "incident:close", yes, confirm["id"])
        return "\n".join(seen(confirm))

    async def everything_seen(self) -> list[str]:
        mine = await self.bot.web_messages(user=self.reporter)
        theirs = await self.bot.web_messages(user=self.colleague)
        return seen(mine + theirs)


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


@pytest.fixture(params=["slack", "teams", "web"])
def door(request, bot, fake_slack, fake_connector) -> Door:
    if request.param == "slack":
        return SlackDoor(bot, fake_slack)
    if request.param == "teams":
        return TeamsDoor(bot, fake_connector)
    return WebDoor(bot)


# --- the journeys ------------------------------------------------------------------------


async def test_from_we_ve_been_hacked_to_a_closed_incident(door, fake_pd):
    """Rosa, a press officer, is not sure whether the team can still log in, whether
    anything harmful is live, or whether messages were read: each "Not sure" is taken
    cautiously, so the locked-out route comes first."""
    # Slack: /compromised and her words; Teams and the web chat: a message with no
    # command, which gets an offer to start.
    door.name_people()
    incident_id = await door.start("we've been hacked on X @ourdept")
    inc = await door.store().get(incident_id)
    assert (inc.platform, inc.account) == ("x", "@ourdept")  # read from her words
    assert inc.triage_step == "symptoms"  # so the platform question is not asked

    await door.answer(
        incident_id, "symptoms|rogue-posts:on", "symptoms|next", "access|unsure",
        "harmful|unsure", "personal|unsure",
    )  # fmt: skip
    inc = await door.store().get(incident_id)
    assert (inc.access, inc.harmful, inc.personal_data) == ("unsure", "unsure", "unsure")
    # The platform came from her words, so the first question asked was the second;
    # every question offered "Not sure".
    assert "Question 2 of 5. What is happening?" in door.asked[0]
    assert all("Not sure" in question for question in door.asked), door.asked

    # The first checklist message is the "First 15 minutes", the safe order first.
    checklist = await door.checklist(incident_id)
    shown = "\n".join(seen(checklist))
    assert "First 15 minutes" in shown
    in_order(shown, LOCKED_OUT_ORDER)
    assert "data protection officer" in shown  # messages may have been read
    assert "Secure the email address linked" not in shown  # later phases wait
    first = buttons(checklist, "incident:done")
    assert 1 <= len(first) <= 5

    # She marks the first two steps done; the checklist says so, by her name.
    for value in first[:2]:
        await door.done(incident_id, value)

    async def redrawn() -> str | None:
        """The checklist once redrawn after the second step (the store is written
        first, the message is redrawn after)."""
        shown = "\n".join(seen(await door.checklist(incident_id)))
        return shown if shown.count(f"done by {REPORTER_NAME}") == 2 else None

    shown = await eventually(redrawn)
    assert "2 of " in shown

    # She hands over to Sam with the person picker; everyone sees his name.
    picker = await door.hand_over(incident_id)
    assert picker and not any(door.colleague in t for t in picker)
    assert (await door.store().get(incident_id)).commander == f"{platform(door)}:{door.colleague}"
    said = await eventually(
        lambda: _find(door, f"{COLLEAGUE_NAME} is now commander of {incident_id}")
    )
    assert said

    # Sam closes it: the confirmation lists the steps still open, by their words.
    open_steps = [s for s in await door.store().steps.all(incident_id) if s.status == "open"]
    confirmation = await door.close(incident_id, "Account back, rogue posts removed")
    assert f"{len(open_steps)} open steps" in confirmation, confirmation
    assert str(open_steps[0].text)[:40] in confirmation

    async def check():
        return (await door.store().get(incident_id)).status == "closed"

    await eventually(check)
    await fake_pd.wait_for(lambda s: s.events("resolve"))
    assert await eventually(lambda: _find(door, f"{incident_id} closed by {COLLEAGUE_NAME}"))

    everything = await door.everything_seen()
    steps = [s.step_id for s in await door.store().steps.all(incident_id)]
    assert_plain(everything, *door.ids(), *steps)


async def test_a_locked_out_team_gets_the_recovery_route_first(door):
    incident_id = await door.start("we've been hacked on X @ourdept")
    await door.answer(
        incident_id, "symptoms|unknown-login:on", "symptoms|next", "access|no", "harmful|no",
        "personal|no",
    )  # fmt: skip
    checklist = await door.checklist(incident_id)
    shown = "\n".join(seen(checklist))
    assert "First 15 minutes" in shown
    in_order(shown, LOCKED_OUT_ORDER)
    assert "help.x.com" in shown  # X's own recovery page, not general advice
    assert "data protection officer" not in shown


async def test_an_impersonation_gets_its_own_steps_not_severity_1(door):
    incident_id = await door.start("we've been hacked on X @ourdept")
    await door.answer(
        incident_id, "symptoms|impersonation:on", "symptoms|next", "access|yes",
        "harmful|unsure", "personal|no",
    )  # fmt: skip
    inc = await door.store().get(incident_id)
    assert inc.kind == "impersonation" and inc.severity != 1
    checklist = await door.checklist(incident_id)
    shown = "\n".join(seen(checklist))
    assert "First 15 minutes" in shown
    in_order(
        shown,
        (
            "security team and your press office",
            "Take screenshots of the fake account",
            "Report the fake account",
        ),
    )
    assert "help page for a hacked account" not in shown  # nothing to recover
    # The report goes through X's own impersonation page, not general advice.
    assert "help.twitter.com/en/rules-and-policies/twitter-impersonation-policy" in shown
    assert "Keep any reference number" in shown  # for tracking the takedown
    # The card's update with the severity may still be on its way (Teams edits it later).
    assert await eventually(lambda: _find(door, f"Severity {inc.severity}"))
    everything = await door.everything_seen()
    assert not any("Severity 1" in t for t in everything)
    assert_plain(everything, *door.ids())


# --- small helpers -----------------------------------------------------------------------


def platform(door: Door) -> str:
    return {SlackDoor: "slack", TeamsDoor: "teams", WebDoor: "web"}[type(door)]


async def _find(door: Door, words: str) -> bool:
    return any(words in t for t in await door.everything_seen())
