"""Assigned training, access reviews and leavers in Microsoft Teams, end to end over
HTTP: authenticated activities and card clicks against the fake Bot Connector. Teams
opens a 1:1 chat only through a conversation it knows, so reminders and owners'
messages reach people privately from the channel the command was typed in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botbuilder.schema import Activity

from app import SERVICES
from bot.adapters.teams.store import ConversationStore
from bot.core.actions import button_value
from bot.core.clock import FakeClock
from bot.core.model import Actor, Message
from incidents.register.model import Access, Details, Person
from tests.incident_support import buttons, card_text
from tests.support import stop_bot, teams_activity
from tests.training_support import (
    register_of,
    reviews_of,
    start_people_bot,
    training_of,
    write_teams,
)

TEAMS = """
version: 1
teams:
  social-media:
    leads: [teams:aad-lead]
    members: [teams:aad-ann, teams:aad-bob]
"""
TENANT = "teams:tenant-1"


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector, tmp_path):
    fake_connector.members.update(
        {"aad-ann": "Ann Editor", "aad-bob": "Bob Writer", "aad-lead": "Lee Lead",
         "aad-owner": "Olu Owner"}
    )  # fmt: skip
    env = {**slack_env, "SECBOT_PEOPLE_TEAMS": write_teams(tmp_path, TEAMS)}
    clock = FakeClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))  # Wednesday, before 10:00
    b = await start_people_bot(env, clock=clock, slack=fake_slack, connector=fake_connector)
    yield b
    await stop_bot(b)


def saying(fake_connector, words: str) -> list[dict]:
    return [a for a in fake_connector.sent() if words in card_text(a)]


async def test_training_in_teams(bot, fake_connector):
    status, _ = await bot.teams_say(
        "training assign team social-media by 2026-12-02", mention=True, aad="aad-lead"
    )
    assert status in (200, 202)
    await fake_connector.wait_for(lambda s: saying(s, "Assigned the security exam to 2 people"))
    a = await training_of(bot).store.of_person(TENANT, "teams:aad-ann")
    assert a is not None and a.user_name == "Ann Editor"  # from the Teams roster

    await bot.app[SERVICES].clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    found = await fake_connector.wait_for(
        lambda s: (
            len(saying(s, "A reminder: please take the security exam")) >= 2
            and saying(s, "A reminder: please take the security exam")
        )
    )
    assert len(found) == 2 and "@secbot quiz exam" not in card_text(found[0])


async def test_access_review_and_leaver_in_teams(bot, fake_connector):
    now = bot.app[SERVICES].clock.now()
    account = await register_of(bot).add(
        TENANT,
        Details(
            platform="linkedin",
            handle="dept-news",
            owner=Person("Olu Owner", "aad-owner"),
            access=(Access(Person("Ann Editor", "aad-ann"), "admin"),),
        ),  # fmt: skip
        by=Actor("teams", "aad-admin", "Ada"),
        now=now,
    )
    await bot.teams_say("access review", mention=True, aad="aad-admin")
    (sent,) = await fake_connector.wait_for(lambda s: saying(s, "please check who can get into"))
    assert "LinkedIn dept-news" in card_text(sent)
    (review,) = await reviews_of(bot).store.open_reviews(TENANT)
    assert buttons(sent, "access:keep") == [button_value(review.id, 0)]

    status, body = await bot.teams_click(
        "access:keep", button_value(review.id, 0), aad="aad-ann", personal=True
    )
    await fake_connector.wait_for(lambda s: saying(s, "Only the account's owner"))
    status, body = await bot.teams_click(
        "access:keep", button_value(review.id, 0), aad="aad-owner", personal=True
    )
    assert status == 200
    status, body = await bot.teams_click(
        "access:remove", button_value(review.id, 0), aad="aad-owner", personal=True
    )
    await fake_connector.wait_for(lambda s: saying(s, "already marked keep"))
    decisions = await reviews_of(bot).store.decisions(review.id)
    assert [d.decision for d in decisions.values()] == ["keep"]
    fresh = await reviews_of(bot).store.get(TENANT, review.id)
    assert fresh is not None and fresh.done_by == "teams:aad-owner"

    await bot.teams_say("leaver @aad-ann", mention=True, aad="aad-admin")
    await fake_connector.wait_for(lambda s: saying(s, "Ann Editor can reach 1 registered account"))
    (task,) = await fake_connector.wait_for(lambda s: saying(s, "Ann Editor is leaving"))
    (value,) = buttons(task, "leaver:confirm")
    status, body = await bot.teams_click("leaver:confirm", value, aad="aad-owner", personal=True)
    assert status == 200
    kept = await register_of(bot).get(TENANT, account.id)
    assert kept is not None and kept.access == ()


async def test_a_teams_mention_assigns_the_person_the_exam_record_knows(bot, fake_connector):
    """A Teams @mention names the Teams id (29:…); the roster gives the Entra object id
    that exam records and the teams file use, so the assignment is the same person's."""
    fake_connector.teams_ids["29:ann"] = "aad-ann"
    act = teams_activity(
        "training assign <at>Ann Editor</at> by 2026-12-02",
        service_url=fake_connector.url, mention=True, aad="aad-admin",
    )  # fmt: skip
    act["entities"].append(
        {"type": "mention", "text": "<at>Ann Editor</at>",
         "mentioned": {"id": "29:ann", "name": "Ann Editor"}}
    )  # fmt: skip
    status, _ = await bot.teams(act)
    assert status in (200, 202)
    await fake_connector.wait_for(lambda s: saying(s, "Assigned the security exam to 1 person"))
    a = await training_of(bot).store.of_person(TENANT, "teams:aad-ann")
    assert a is not None and a.user_name == "Ann Editor"


async def test_next_quarters_reviews_reach_teams_owners_through_the_admins_channel(
    bot, fake_connector
):
    """Teams opens a 1:1 chat only through a conversation it knows. The reviews secbot
    opens itself next quarter (no command, so no channel of their own) go through a
    trusted conversation of the owner's tenant: here the one an admin typed in."""
    await _dept_video(bot)
    await bot.teams_say("access review", mention=True, aad="aad-admin")
    await fake_connector.wait_for(lambda s: _asked(s, 1))
    # Monday 4 January 2027, 10:00: a new quarter, and the worker opens its review.
    await bot.app[SERVICES].clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    (_, latest) = await fake_connector.wait_for(lambda s: _asked(s, 2))
    assert "DeptVideo" in card_text(latest)
    assert {r.period for r in await reviews_of(bot).store.open_reviews(TENANT)} == {
        "2026-10-01", "2027-01-01",
    }  # fmt: skip


async def _dept_video(bot) -> None:
    """@DeptVideo on YouTube in the tenant: Olu owns it, Ann manages it."""
    await register_of(bot).add(
        TENANT,
        Details(platform="youtube", handle="DeptVideo", owner=Person("Olu Owner", "aad-owner"),
                access=(Access(Person("Ann Editor", "aad-ann"), "manager"),)),
        by=Actor("teams", "aad-admin", "Ada"), now=bot.app[SERVICES].clock.now(),
    )  # fmt: skip


def _asked(fake_connector, count: int) -> list[dict]:
    found = [
        a for a in saying(fake_connector, "please check who can get into")
        if "Reminder" not in card_text(a)
    ]  # fmt: skip
    assert len(found) <= count
    return found if len(found) == count else []


async def test_a_teams_owner_who_never_wrote_gets_the_quarterly_review_privately(
    bot, fake_connector
):
    """Nobody ever typed ``access review`` and the owner has never written to secbot: the
    transport opens their 1:1 chat through the newest conversation it knows in their
    tenant, and a trusted one only: not a newer one of another tenant, not one kept with
    an untrusted serviceUrl."""
    await _dept_video(bot)
    await _help(bot, fake_connector, "19:general@thread.tacv2", "tenant-1")
    # Newer, in the same tenant, but kept with a serviceUrl no token vouched for (open
    # mode's): never called. Nothing listens there, so a call would lose the review.
    untrusted = teams_activity(
        "help", service_url="http://127.0.0.1:9/", conversation="19:dev@thread.tacv2"
    )
    await ConversationStore(bot.app[SERVICES].db).save(
        Activity().deserialize(untrusted), bot.app[SERVICES].clock.now(), "development"
    )
    # First in line too: a row kept before trust was recorded (https serviceUrl, no trust).
    # It may answer a command typed there, but opens nobody's chat.
    legacy = teams_activity(
        "help", service_url="https://127.0.0.1:9/", conversation="19:a-legacy@thread.tacv2"
    )
    await ConversationStore(bot.app[SERVICES].db).save(
        Activity().deserialize(legacy), bot.app[SERVICES].clock.now(), None  # type: ignore[arg-type]
    )
    await _help(bot, fake_connector, "19:elsewhere@thread.tacv2", "tenant-2")  # the newest

    await bot.app[SERVICES].clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    (sent,) = await fake_connector.wait_for(lambda s: _asked(s, 1))
    assert "DeptVideo" in card_text(sent)
    (created,) = _chats_for(fake_connector, "aad-owner")
    assert created["channelData"]["tenant"]["id"] == "tenant-1" and not created["isGroup"]
    (path,) = [c.path for c in fake_connector.calls if c.body is sent]
    assert path.startswith("/v3/conversations/a:personal-")  # the new 1:1 chat
    (review,) = await reviews_of(bot).store.open_reviews(TENANT)
    assert review.place == "" and review.owner_name == "Olu Owner"


async def test_a_conversation_of_another_tenant_never_opens_a_chat(bot, fake_connector, caplog):
    """Tenant 1 has no conversation secbot knows; tenant 2 has. Tenant 1's owner is not
    reached through tenant 2's (the warning is logged instead); tenant 2's owner is."""
    for tenant, owner in (("teams:tenant-1", "aad-owner"), ("teams:tenant-2", "aad-other")):
        await register_of(bot).add(
            tenant,
            Details(platform="youtube", handle=f"Video-{owner}", owner=Person("Olu", owner),
                    access=(Access(Person("Ann Editor", "aad-ann"), "manager"),)),
            by=Actor("teams", "aad-admin", "Ada"), now=bot.app[SERVICES].clock.now(),
        )  # fmt: skip
    await _help(bot, fake_connector, "19:elsewhere@thread.tacv2", "tenant-2")

    await bot.app[SERVICES].clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    # Tenants are opened in order: tenant 2's review arriving means tenant 1's was tried.
    (sent,) = await fake_connector.wait_for(lambda s: _asked(s, 1))
    assert "Video-aad-other" in card_text(sent)
    (created,) = _chats_for(fake_connector, "aad-other")
    assert created["channelData"]["tenant"]["id"] == "tenant-2"
    assert _chats_for(fake_connector, "aad-owner") == []
    assert len(await reviews_of(bot).store.open_reviews(TENANT)) == 1  # opened, not sent
    assert "could not be sent (no conversation reference)" in caplog.text


async def _help(bot, fake_connector, conversation: str, tenant: str) -> None:
    """Someone asks for help in a channel of ``tenant``: secbot keeps that conversation."""
    n = len(fake_connector.sent())
    await bot.teams_say(
        "help", mention=True, aad="aad-lead", conversation=conversation, tenant=tenant
    )
    await fake_connector.wait_for(lambda s: len(s.sent()) > n)


def _chats_for(fake_connector, member: str) -> list[dict]:
    """The 1:1 chats secbot asked the Bot Connector to open with ``member``."""
    return [
        c.body for c in fake_connector.named("/v3/conversations")
        if [m["id"] for m in c.body["members"]] == [member]
    ]  # fmt: skip


@pytest.mark.parametrize("status", [429, 403])
async def test_a_refused_message_in_a_newly_opened_chat_is_reported(
    bot, fake_connector, caplog, status
):
    """The 1:1 chat opens but Teams refuses the message in it (rate limited; the owner
    blocked secbot). The review is reported as not sent, not as delivered, and the
    channel it was opened through is still used: the refusal was the chat's."""
    await _dept_video(bot)
    channel = "19:general@thread.tacv2"
    await _help(bot, fake_connector, channel, "tenant-1")
    for n in range(1, 40):  # the fake numbers chats and messages from one counter
        fake_connector.fail_status[f"a:personal-{n}"] = status

    await bot.app[SERVICES].clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    await fake_connector.wait_for(lambda s: _chats_for(s, "aad-owner"))
    await fake_connector.wait_for(
        lambda s: f"could not be sent (teams {status})" in caplog.text or None
    )
    assert await ConversationStore(bot.app[SERVICES].db).is_active(channel)


async def test_a_message_in_a_newly_opened_chat_can_be_updated(bot, fake_connector):
    """A message to someone secbot had no chat with (a page, a review) comes back with
    the new chat's id and the message's, so it can be updated in place (acknowledged)."""
    await _help(bot, fake_connector, "19:general@thread.tacv2", "tenant-1")
    teams = bot.app[SERVICES].transports["teams"]
    place = teams.direct_place("tenant-1", "aad-owner")
    ref = await teams.post(place, Message("A page: please acknowledge"))
    assert ref is not None and ref.place.is_direct and ref.place.workspace == "tenant-1"
    (path,) = [c.path for c in fake_connector.calls if "please acknowledge" in str(c.body)]
    assert path.startswith(f"/v3/conversations/{ref.place.channel}/activities")
    assert ref.place.channel.startswith("a:personal-") and ref.id.startswith("activity-")

    await teams.update(ref, Message("Acknowledged by Olu Owner"))
    (update,) = fake_connector.updates()
    assert "Acknowledged by Olu Owner" in str(update)
    (put,) = [c.path for c in fake_connector.calls if c.method == "PUT"]
    assert put == f"/v3/conversations/{ref.place.channel}/activities/{ref.id}"


async def test_a_tenant_named_only_on_the_conversation_still_opens_chats(bot, fake_connector):
    """Teams names the tenant on the conversation (tenantId) and in channelData; an
    activity with only the first still files its conversation under the tenant, so an
    owner who never wrote is reached through it."""
    activity = teams_activity(
        "help", mention=True, aad="aad-lead", conversation="19:only-conv@thread.tacv2",
        service_url=fake_connector.url, tenant="tenant-1",
    )  # fmt: skip
    del activity["channelData"]["tenant"]
    assert activity["conversation"]["tenantId"] == "tenant-1"
    await bot.teams(activity)
    await fake_connector.wait_for(lambda s: s.sent())
    teams = bot.app[SERVICES].transports["teams"]
    await teams.post(teams.direct_place("tenant-1", "aad-owner"), Message("Hello"))
    (created,) = _chats_for(fake_connector, "aad-owner")
    assert created["channelData"]["tenant"]["id"] == "tenant-1"
