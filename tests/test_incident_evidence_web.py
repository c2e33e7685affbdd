"""Issue 16 items 4 and 5 end to end in the web chat: "Add to incident timeline" on a
message (one incident, several, none), a file uploaded in the incident's room kept as
evidence with its SHA-256, and an impersonation takedown tracked, chased once at 48
hours (across a restart) and marked removed."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

from bot.core.clock import FakeClock
from tests import incident_support
from tests.incident_support import buttons, card_text, desk
from tests.support import start_bot, stop_bot

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack
env = incident_support.env
bot = incident_support.bot

REPORTER, TEAM, STRANGER = "web-reporter", "web-team", "web-stranger"
IMPERSONATION = ["symptoms|impersonation:on", "symptoms|next", "access|yes", "harmful|no",
                 "personal|no"]  # fmt: skip
HIJACK = ["symptoms|rogue-posts:on", "symptoms|next", "access|no", "harmful|no", "personal|no"]


async def say(bot, text: str, user: str = REPORTER) -> list[dict]:
    status, body = await bot.web_send(user=user, text=text)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user)


async def send(bot, user: str = REPORTER, **extra) -> list[dict]:
    status, body = await bot.web_send(user=user, extra=extra)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user)


async def click(bot, action: str, value: str, message_id, user: str = REPORTER, form=None):
    act = {"action_id": action, "value": value, "message_id": str(message_id)}
    if form is not None:
        act["form"] = form
    status, body = await bot.web_send(user=user, action=act)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user)


async def start(bot, words: str, answers: list[str]) -> tuple[str, int]:
    messages = await say(bot, words)
    card = messages[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in answers:
        await click(bot, "incident:triage", f"{incident_id}|{answer}", card["id"])
    return incident_id, card["id"]


async def timeline(bot, incident_id: str) -> list[tuple[str, str, str]]:
    events = await desk(bot).store.timeline.events(incident_id)
    return [(e.kind, e.actor_name, e.text) for e in events]


async def test_a_message_goes_on_the_timeline_with_its_authors_name(bot):
    incident_id, _ = await start(bot, "compromised x @govuk", HIJACK)
    # Someone says something worth keeping; the reporter adds it to the timeline.
    messages = await say(bot, "The rogue post went out at 09:12 <b>bold</b>\u202e", user=TEAM)
    said = next(m for m in messages if m["sender"] == "user" and "rogue post" in m["text"])
    messages = await send(bot, share={"message_id": str(said["id"])})
    (kind, by, text) = (await timeline(bot, incident_id))[-1]
    assert kind == "message" and by == "Web User"
    assert text.startswith("Message from Web User at ") and "web-team" not in text  # a name
    assert "“The rogue post went out at 09:12 <b>bold</b>”" in text  # inert: no bidi mark
    assert "GMT" in text or "BST" in text
    assert messages[-1]["private"] and "Added to the " + incident_id in messages[-1]["text"]
    # Adding it again changes nothing.
    messages = await send(bot, share={"message_id": str(said["id"])})
    assert "already on the" in messages[-1]["text"]
    assert [k for k, _, _ in (await timeline(bot, incident_id))].count("message") == 1
    # Someone on no incident is told so, privately.
    messages = await send(bot, user=STRANGER, share={"message_id": str(said["id"])})
    assert messages[-1]["private"] and "not on any open incident" in messages[-1]["text"]


async def test_several_open_incidents_ask_which(bot):
    first, _ = await start(bot, "compromised x @one", HIJACK)
    second, _ = await start(bot, "compromised facebook @two", HIJACK)
    messages = await say(bot, "A screenshot of the DM is in the shared drive", user=TEAM)
    said = next(m for m in messages if m["sender"] == "user" and "screenshot" in m["text"])
    messages = await send(bot, share={"message_id": str(said["id"])})
    ask = messages[-1]
    assert ask["private"] and "Which timeline" in ask["text"]
    choices = buttons(ask["blocks"], "incident.timeline:pick")
    assert len(choices) == 2
    pick = next(v for v in choices if v.endswith(second))
    await click(bot, "incident.timeline:pick", pick, ask["id"])
    assert (await timeline(bot, second))[-1][0] == "message"
    assert "message" not in [k for k, _, _ in (await timeline(bot, first))]
    # The choice is spent: pressing it again adds nothing more.
    messages = await click(bot, "incident.timeline:pick", pick, ask["id"])
    assert [k for k, _, _ in (await timeline(bot, second))].count("message") == 1


async def test_a_file_in_the_incident_room_is_kept_with_its_hash(bot):
    incident_id, _ = await start(bot, "compromised x @govuk", HIJACK)
    content = b"screenshot bytes \x00\x01\x02" * 100
    upload = {"name": "rogue-post.png", "content": base64.b64encode(content).decode()}
    messages = await send(bot, upload=upload)
    digest = hashlib.sha256(content).hexdigest()
    (kind, by, text) = (await timeline(bot, incident_id))[-1]
    assert kind == "evidence-file" and by == "Web User"
    assert text == f"File rogue-post.png (2.0 KB): SHA-256 {digest}"
    assert any(digest in m["text"] for m in messages)
    kept = await desk(bot).evidence.kept.all(incident_id)
    assert [(e.name, e.size, e.sha256) for e in kept] == [("rogue-post.png", 2000, digest)]
    # A stranger's file in the same room is none of the incident's business.
    await send(bot, user=STRANGER, upload=upload)
    assert len(await desk(bot).evidence.kept.all(incident_id)) == 1


async def test_takedown_is_tracked_chased_once_at_48_hours_and_removed(
    env, fake_slack, fake_connector, content_library, fake_pd
):
    clock = FakeClock(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    running = await start_bot(
        env, clock=clock, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        incident_id, card_id = await start(running, "compromised x @dhsc", IMPERSONATION)
        card = next(m for m in await running.web_messages(user=REPORTER) if m["id"] == card_id)
        assert buttons(card["blocks"], "incident.takedown:show") == [incident_id]
        messages = await click(running, "incident.takedown:show", incident_id, card_id)
        tracker = messages[-1]
        assert tracker["text"].startswith(f"Fake accounts reported: {incident_id}")
        assert {b["name"] for b in tracker["blocks"] if b["type"] == "input"} == {
            "url", "platform", "reference", "reported",
        }  # fmt: skip
        assert "no escalation route on record" in card_text(tracker["blocks"])
        # A bad link is refused, and nothing is added.
        messages = await click(running, "incident.takedown:add", incident_id, tracker["id"],
                               form={"url": "fake_dhsc"})  # fmt: skip
        assert messages[-1]["private"] and "https://" in messages[-1]["text"]
        form = {"url": "https://x.com/fake_dhsc", "platform": "", "reference": "X-123",
                "reported": ""}  # fmt: skip
        messages = await click(running, "incident.takedown:add", incident_id, tracker["id"],
                               form=form)  # fmt: skip
        await click(running, "incident.takedown:add", incident_id, tracker["id"], form=form)
        tracker = next(m for m in messages if m["id"] == tracker["id"])
        assert "1. X: https://x.com/fake_dhsc" in tracker["text"]
        assert "reference X-123 · Reported" in tracker["text"]
        (item,) = await desk(running).takedowns.items.of(incident_id)
        assert item.platform == "x" and item.status == "reported"
        kinds = [k for k, _, _ in (await timeline(running, incident_id))]
        assert kinds.count("takedown") == 1

        # 47 hours: no reminder yet.
        await clock.advance(hours=47)
        await desk(running).takedowns.chase_round()
        assert "takedown-chase" not in [k for k, _, _ in (await timeline(running, incident_id))]
    finally:
        await stop_bot(running)
    # A restart with the reminder pending: it fires once, after 48 hours.
    clock.jump(datetime(2026, 12, 6, 10, 1, tzinfo=UTC))
    running = await start_bot(
        env, clock=clock, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        await desk(running).takedowns.chase_round()
        await desk(running).takedowns.chase_round()
        kinds = [k for k, _, _ in (await timeline(running, incident_id))]
        assert kinds.count("takedown-chase") == 1
        messages = await running.web_messages(user=REPORTER)
        chase = [m for m in messages if "time to chase" in m["text"]]
        assert len(chase) == 1
        assert "https://x.com/fake_dhsc" in chase[0]["text"]
        assert "reference X-123" in chase[0]["text"]
        assert "Web User, please chase it" in chase[0]["text"]
        # The platform removes it: marked removed, no more reminders.
        tracker = next(m for m in reversed(messages) if m["text"].startswith("Fake accounts"))
        removed = [v for v in buttons(tracker["blocks"], "incident.takedown:status")
                   if v.endswith("|removed")]  # fmt: skip
        messages = await click(running, "incident.takedown:status", removed[0], tracker["id"])
        (item,) = await desk(running).takedowns.items.of(incident_id)
        assert item.status == "removed" and item.chase_at is None
        tracker = next(m for m in messages if m["id"] == tracker["id"])
        assert "Removed" in tracker["text"]
        assert not buttons(tracker["blocks"], "incident.takedown:status")
        await clock.advance(hours=100)
        await desk(running).takedowns.chase_round()
        events = await timeline(running, incident_id)
        assert [k for k, _, _ in events].count("takedown-chase") == 1
        assert events[-1][0] == "takedown-status" and events[-1][2].endswith(": removed")
    finally:
        await stop_bot(running)


async def test_a_file_too_big_to_hash_is_recorded_by_name_and_size(bot, monkeypatch):
    from incidents.desk import evidence

    monkeypatch.setattr(evidence, "MAX_FILE_BYTES", 100)  # the bound, made small
    incident_id, _ = await start(bot, "compromised x @govuk", HIJACK)
    upload = {"name": "video.mp4", "content": base64.b64encode(b"v" * 101).decode()}
    await send(bot, upload=upload)
    (kind, _, text) = (await timeline(bot, incident_id))[-1]
    assert kind == "evidence-file"
    assert text == "File video.mp4 (101 bytes): too big to hash here (over 100 bytes)"
    (kept,) = await desk(bot).evidence.kept.all(incident_id)
    assert (kept.name, kept.size, kept.sha256) == ("video.mp4", 101, None)


async def test_a_takedown_reported_days_ago_is_chased_with_the_day_it_was_reported(
    env, fake_slack, fake_connector, content_library, fake_pd
):
    # Reported to the platform on Monday, recorded in secbot on Friday: the chase is due
    # at once, and says when it was reported, not "48 hours ago".
    clock = FakeClock(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    running = await start_bot(
        env, clock=clock, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        incident_id, card_id = await start(running, "compromised x @dhsc", IMPERSONATION)
        tracker = (await click(running, "incident.takedown:show", incident_id, card_id))[-1]
        form = {"url": "https://x.com/fake_dhsc", "platform": "", "reference": "X-9",
                "reported": "2026-11-30"}  # fmt: skip
        await click(running, "incident.takedown:add", incident_id, tracker["id"], form=form)
        await desk(running).takedowns.chase_round()
        messages = await running.web_messages(user=REPORTER)
        (chase,) = [m["text"] for m in messages if "time to chase" in m["text"]]
        assert "It was reported on Mon 30 Nov 2026 and the platform has not settled it" in chase
        assert "48 hours ago" not in chase
    finally:
        await stop_bot(running)
