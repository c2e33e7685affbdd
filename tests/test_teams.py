"""Teams over HTTP: Bot Framework activities to /api/messages, replies to a fake Bot Connector."""

from __future__ import annotations

import json

from tests.support import start_bot, stop_bot, teams_activity


def _card_text(activity: dict) -> str:
    card = activity["attachments"][0]["content"]
    return json.dumps(card)


async def test_personal_help_reaches_the_connector(running, fake_connector):
    status, _ = await running.teams_say("help", personal=True, conversation="a:personal-conv")
    assert status == 202
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert sent[0]["type"] == "message"
    card = sent[0]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["version"] == "1.5"
    assert "Show what I can do" in _card_text(sent[0])
    assert sent[0]["summary"].startswith("What I can do")


async def test_quiz_spelling_variants_all_route(running, fake_connector):
    for text, mention in (("help", False), ("/help", False), ("help", True)):
        fake_connector.calls.clear()
        status, _ = await running.teams_say(
            text, personal=True, mention=mention, conversation="a:personal-conv"
        )
        assert status == 202
        sent = await fake_connector.wait_for(lambda s: s.sent())
        assert "Show what I can do" in _card_text(sent[0]), text


async def test_unknown_command_in_personal_chat_points_to_help(running, fake_connector):
    await running.teams_say("frobnicate", personal=True, conversation="a:personal-conv")
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert "Type help" in json.dumps(sent[0])


async def test_private_reply_in_a_channel_goes_to_a_personal_chat(running, fake_connector):
    status, _ = await running.teams_say("help", mention=True)
    assert status == 202
    created = await fake_connector.wait_for(lambda s: s.named("/v3/conversations"))
    assert created[0].body["members"][0]["id"] == "29:user-1"
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert (
        "/v3/conversations/a:personal-"
        in [c.path for c in fake_connector.calls if c.method == "POST"][-1]
    )
    assert "Show what I can do" in _card_text(sent[-1])


async def test_non_json_gets_415_and_malformed_json_400(running):
    async with running.session.post(
        running.url + "api/messages", data="hello", headers={"Content-Type": "text/plain"}
    ) as r:
        assert r.status == 415
    async with running.session.post(
        running.url + "api/messages", data="{not json", headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
    async with running.session.post(
        running.url + "api/messages", data="[1, 2]", headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
    for broken in (
        {"type": "message", "text": "help"},  # no serviceUrl or conversation
        {"type": "message", "from": 3},  # wrong shape
        {"type": "message", "serviceUrl": "http://x/", "conversation": {"name": "no id"}},
    ):
        async with running.session.post(running.url + "api/messages", json=broken) as r:
            assert r.status == 400, broken


async def test_retried_activity_has_no_second_effect(running, fake_connector):
    act = teams_activity(
        "help",
        service_url=fake_connector.url,
        personal=True,
        conversation="a:p",
        activity_id="same-activity",
    )
    assert (await running.teams(act))[0] == 202
    await fake_connector.wait_for(lambda s: s.sent())
    assert (await running.teams(act))[0] == 202
    await running.teams_say("help", personal=True, conversation="a:p")  # barrier
    await fake_connector.wait_for(lambda s: len(s.sent()) >= 2)
    assert len(fake_connector.sent()) == 2


async def test_expect_replies_and_unknown_invoke_do_not_500(running, fake_connector):
    act = teams_activity("help", service_url=fake_connector.url, personal=True, conversation="a:p")
    act["deliveryMode"] = "expectReplies"
    status, _ = await running.teams(act)
    assert status == 200
    status, body = await running.teams_click("nothing:here")
    assert status == 200
    assert body["statusCode"] == 200


async def test_with_app_id_missing_or_garbage_token_is_401(tmp_path, fake_connector):
    env = {
        "SECBOT_DB": str(tmp_path / "a.db"),
        "MICROSOFT_APP_ID": "11111111-2222-3333-4444-555555555555",
        "MICROSOFT_APP_PASSWORD": "secret",
        "MICROSOFT_APP_TYPE": "MultiTenant",
    }
    bot = await start_bot(env, connector=fake_connector, content=False)
    try:
        act = teams_activity("help", service_url=fake_connector.url, personal=True)
        # bot.teams() would attach a valid token: post without one by hand.
        async with bot.session.post(bot.url + "api/messages", json=act) as r:
            assert r.status == 401
        assert (await bot.teams(act, {"Authorization": "Bearer not-a-jwt"}))[0] == 401
        assert (await bot.teams(act, {"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}))[
            0
        ] == 401
        assert fake_connector.sent() == []
    finally:
        await stop_bot(bot)


def _members_changed(connector_url: str, *, added=(), removed=(), activity_id=None) -> dict:
    act = teams_activity(
        service_url=connector_url,
        activity_type="conversationUpdate",
        conversation="19:team-general@thread.tacv2",
        activity_id=activity_id,
    )
    act["channelData"]["team"] = {"id": "19:team@thread.tacv2"}
    act["channelData"]["eventType"] = "teamMemberAdded"
    if added:
        act["membersAdded"] = [{"id": m} for m in added]
    if removed:
        act["membersRemoved"] = [{"id": m} for m in removed]
    return act


async def test_bot_added_to_a_team_says_hello_once_and_remembers_the_channel(
    running, fake_connector
):
    from app import SERVICES
    from bot.core.model import Message, Place, Section

    act = _members_changed(fake_connector.url, added=["28:bot-id"], activity_id="install-1")
    status, _ = await running.teams(act)
    assert status == 201
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert "Hello, I'm secbot" in _card_text(sent[0]) and "@secbot help" in _card_text(sent[0])
    assert fake_connector.calls[0].path.startswith(
        "/v3/conversations/19:team-general@thread.tacv2/activities"
    )

    assert (await running.teams(act))[0] == 201  # Teams retries: no second welcome
    await running.teams_say("help", personal=True, conversation="a:p")  # barrier
    await fake_connector.wait_for(lambda s: len(s.sent()) >= 2)
    assert sum("Hello, I'm secbot" in json.dumps(a) for a in fake_connector.sent()) == 1

    # The stored conversation reference is what proactive posts (tips, pages) use.
    transport = running.app[SERVICES].transports["teams"]
    place = Place("teams", "tenant-1", "19:team-general@thread.tacv2")
    ref = await transport.post(place, Message("A tip", (Section("A tip"),)))
    assert ref is not None and ref.id.startswith("activity-")
    assert "A tip" in _card_text(fake_connector.sent()[-1])


async def test_someone_else_joining_gets_no_welcome(running, fake_connector):
    act = _members_changed(fake_connector.url, added=["29:new-colleague"])
    assert (await running.teams(act))[0] == 201
    await running.teams_say("help", personal=True, conversation="a:p")  # barrier
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert len(sent) == 1 and "Hello, I'm secbot" not in json.dumps(sent[0])


async def test_bot_removed_marks_the_conversation_inactive(running, fake_connector):
    from app import SERVICES
    from bot.adapters.teams.store import ConversationStore

    await running.teams(_members_changed(fake_connector.url, added=["28:bot-id"]))
    await running.teams(_members_changed(fake_connector.url, removed=["28:bot-id"]))
    conversations = ConversationStore(running.app[SERVICES].db)
    assert await conversations.is_active("19:team-general@thread.tacv2") is False


async def test_proactive_private_post_goes_to_the_named_person(running, fake_connector):
    """The channel's stored reference names whoever spoke last; the post must not."""
    from app import SERVICES
    from bot.core.model import Actor, Message, Place, Section

    channel = "19:chan@thread.tacv2"
    for user, aad in (("29:first", "aad-first"), ("29:second", "aad-second")):
        status, _ = await running.teams_say(
            "help", mention=True, user=user, aad=aad, conversation=channel
        )
        assert status == 202
    await fake_connector.wait_for(lambda s: len(s.named("/v3/conversations")) >= 2)
    fake_connector.calls.clear()
    transport = running.app[SERVICES].transports["teams"]
    place = Place("teams", "tenant-1", channel)
    note = Message("Just for you", (Section("Just for you"),), private=True)
    await transport.post_private(place, Actor("teams", "aad-first"), note)
    created = await fake_connector.wait_for(lambda s: s.named("/v3/conversations"))
    assert [m["id"] for m in created[0].body["members"]] == ["29:first"]
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert "Just for you" in json.dumps(sent[-1])
