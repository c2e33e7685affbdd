"""The local web chat front door over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime


async def test_page_is_served(running):
    async with running.session.get(running.url) as r:
        assert r.status == 200
        html = await r.text()
        csp = r.headers["Content-Security-Policy"]
    assert "secbot" in html and '<script src="/webchat/static/app.js"' in html
    assert "<script>" not in html and "<style>" not in html and " style=" not in html
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    async with running.session.get(running.url + "webchat/static/app.js") as r:
        assert r.status == 200 and r.content_type == "text/javascript"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        js = await r.text()
    assert "/webchat/api/send" in js
    async with running.session.get(running.url + "webchat/static/app.css") as r:
        assert r.status == 200 and r.content_type == "text/css"
    async with running.session.get(running.url + "webchat/static/webchat.html") as r:
        assert r.status == 404  # only the named files are served


def test_page_script_never_writes_html():
    """Text reaches the page through textContent only, never parsed as markup."""
    from importlib import resources

    js = resources.files("bot").joinpath("static", "webchat.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in js, sink
    assert "textContent" in js


async def test_help_in_the_channel_is_private(running):
    status, body = await running.web_send(text="help")
    assert status == 200 and body["ok"]
    mine = await running.web_messages()
    assert [m["sender"] for m in mine] == ["user", "bot"]
    assert mine[1]["private"] is True
    assert "What I can do" in mine[1]["text"]
    others = await running.web_messages(user="web-user-2")
    assert [m["sender"] for m in others] == ["user"]  # another person sees the question only


async def test_direct_message_help_and_polling_after(running):
    await running.web_send(text="/help", conversation="dm")
    msgs = await running.web_messages(conversation="dm")
    assert msgs[-1]["private"] is False and "What I can do" in msgs[-1]["text"]
    assert await running.web_messages(conversation="dm", after=msgs[-1]["version"]) == []


async def test_bad_input_gets_a_clear_error(running):
    signed_in = running.web_headers("web-user-1")
    async with running.session.post(
        running.url + "webchat/api/send",
        data="x",
        headers={"Content-Type": "text/plain", **signed_in},
    ) as r:
        assert r.status == 415
    async with running.session.post(
        running.url + "webchat/api/send",
        data="{oops",
        headers={"Content-Type": "application/json", **signed_in},
    ) as r:
        assert r.status == 400
        assert "not valid JSON" in (await r.json())["error"]
    status, body = await running.web_send(text="   ")
    assert status == 400 and "Type a message" in body["error"]
    status, body = await running.web_send(text="x" * 5000)
    assert status == 400 and "too long" in body["error"]
    status, body = await running.web_send(text="help", conversation="bad id!")
    assert status == 400


async def test_repeated_request_id_has_no_second_effect(running):
    await running.web_send(text="help", request_id="same1")
    await running.web_send(text="help", request_id="same1")
    msgs = await running.web_messages()
    assert [m["sender"] for m in msgs] == ["user", "bot"]


async def test_copies_of_one_message_sent_at_once_are_echoed_and_answered_once(running):
    """The page resends a message it got no answer for, so two copies can arrive together:
    the claim and the echo commit in one transaction, so one copy wins and the other is a
    repeat (the race: both saw the delivery as new, and both echoed it)."""
    import asyncio

    results = await asyncio.gather(
        *(running.web_send(text="help", request_id="burst1") for _ in range(8))
    )
    assert all(status == 200 for status, _ in results)
    assert sum(1 for _, body in results if body.get("repeat")) == 7
    msgs = await running.web_messages()
    assert [m["sender"] for m in msgs] == ["user", "bot"]


async def test_every_change_takes_a_new_version_in_order(running):
    """Web chat versions: posts and updates written at once each take a version of their
    own, and a page polling after a version sees each change exactly once."""
    import asyncio

    from app import SERVICES
    from bot.adapters.web.chat import WebChatStore

    store = WebChatStore(running.app[SERVICES].db)
    now = datetime.now(UTC)
    ids = await asyncio.gather(
        *(store.add("versions", "bot", {"text": str(i)}, now) for i in range(20))
    )
    await asyncio.gather(*(store.replace(i, "versions", {"text": "changed"}) for i in ids[:10]))
    rows = await store.since("versions", "web-user-1", 0)
    versions = sorted(r["version"] for r in rows)
    assert len(set(versions)) == 20
    seen = await store.since("versions", "web-user-1", versions[9])
    assert len(seen) == 10


async def test_unknown_button_is_answered_politely(running):
    status, _ = await running.web_send(action={"action_id": "gone:away", "value": "1"})
    assert status == 200
    msgs = await running.web_messages()
    assert "no longer active" in msgs[-1]["text"]


async def test_a_click_can_only_update_a_bot_message_in_its_own_conversation(running):
    """A click naming someone's message, or a message in another conversation, is refused
    and changes nothing; a quiz question in the channel still updates in place."""
    await running.web_send(text="quiz me", user="bob", conversation="dm")
    (bob_question,) = [
        m for m in await running.web_messages(user="bob", conversation="dm") if m["sender"] == "bot"
    ]
    await running.web_send(text="quiz me", user="alice", conversation="dm")
    alice_msgs = await running.web_messages(user="alice", conversation="dm")
    alice_typed, alice_question = alice_msgs[0], alice_msgs[-1]
    (button,) = [b for b in alice_question["blocks"] if b["type"] == "actions"][0]["buttons"][:1]
    answer = {"action_id": button["action_id"], "value": button["value"]}

    for other in (bob_question["id"], alice_typed["id"]):
        status, body = await running.web_send(
            user="alice", conversation="dm", action={**answer, "message_id": str(other)}
        )
        assert status == 400 and "isn't on a message in this conversation" in body["error"]
    (bob_after,) = [
        m for m in await running.web_messages(user="bob", conversation="dm") if m["sender"] == "bot"
    ]
    assert bob_after == bob_question
    alice_after = await running.web_messages(user="alice", conversation="dm")
    assert alice_after[0] == alice_typed and alice_after[-1] == alice_question

    status, body = await running.web_send(
        user="alice", conversation="dm", action={**answer, "message_id": str(alice_question["id"])}
    )
    assert status == 200 and body["ok"]
    (updated,) = [
        m
        for m in await running.web_messages(user="alice", conversation="dm")
        if m["id"] == alice_question["id"]
    ]
    assert updated["version"] > alice_question["version"] and "You chose" in updated["text"]


async def test_nobody_can_read_or_post_in_someone_elses_direct_messages(running):
    """Direct messages live in "dm-<id>": naming that as a room is refused, so another
    signed-in person can neither read them nor post there."""
    await running.web_send(text="/help", conversation="dm", user="web-user-1")
    async with running.session.get(
        running.url + "webchat/api/messages",
        params={"user_id": "web-user-2", "conversation": "dm-web-user-1", "after": "0"},
        headers=running.web_headers("web-user-2"),
    ) as r:
        assert r.status == 400
        assert "messages" not in await r.json()
    status, body = await running.web_send(
        text="hello", conversation="dm-web-user-1", user="web-user-2"
    )
    assert status == 400 and not body["ok"]
    mine = await running.web_messages(conversation="dm", user="web-user-1")
    assert [m["sender"] for m in mine] == ["user", "bot"]


async def test_a_room_with_messages_is_listed_for_the_page(running):
    """A page sent to a web chat room (an incident room) is readable: the room is listed
    with the messages, newest room first, and direct messages never are."""
    from app import SERVICES
    from bot.core.model import Message, Place

    transport = running.app[SERVICES].transports["web"]
    await transport.post(Place("web", "local", "incident-room"), Message("Severity 1 page"))
    await running.web_send(text="/help", conversation="dm")
    async with running.session.get(
        running.url + "webchat/api/messages",
        params={"user_id": "web-user-2", "conversation": "general", "after": "0"},
        headers=running.web_headers("web-user-2"),
    ) as r:
        data = await r.json()
    assert data["rooms"] == ["incident-room"]
    (page,) = await running.web_messages(user="web-user-2", conversation="incident-room")
    assert page["text"] == "Severity 1 page"


async def test_short_button_labels_carry_their_spoken_name_and_toggle_state(running):
    from app import SERVICES
    from bot.core.model import Actions, Button, Message

    async def demo(turn):
        await turn.reply(
            Message(
                "Pick",
                (
                    Actions(
                        (
                            Button("A", "demo:x", "a", accessibility_label="A: Use a passkey"),
                            Button("Phishing", "demo:y", "p", pressed=True),
                            Button("Next", "demo:z", "n"),
                        )
                    ),
                ),
            )
        )

    running.app[SERVICES].registry.add_command("demo", "Buttons", demo, hidden=True)
    await running.web_send(text="demo")
    (reply,) = [m for m in await running.web_messages() if m["sender"] == "bot"]
    buttons = reply["blocks"][0]["buttons"]
    assert [(b["spoken"], b["pressed"]) for b in buttons] == [
        ("A: Use a passkey", None),
        ("", True),
        ("", None),
    ]
