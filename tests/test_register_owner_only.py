"""Only admins and an account's owner may change that account (issue 19, Bad input), on
Slack and in Teams, end to end over HTTP, through every path that changes one: remove,
the card's pickers (business owner, access), a CSV import, an access review's Remove and
a leaver's Confirm removed. Someone with access to the account (who may see it whole)
is refused on each and nothing changes; then the owner's own remove works. (The web chat
has the same in tests/test_register_everywhere.py; the Slack modal's edit in
tests/test_register_modal.py; save in test_register_slack_teams.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app import SERVICES
from bot.core.actions import button_value
from bot.core.clock import FakeClock
from bot.core.model import Actor
from incidents.register.model import Access, Details, Person
from tests.incident_support import buttons, card_text
from tests.support import stop_bot, teams_activity
from tests.test_register_slack_teams import _file_event
from tests.training_support import register_of, reviews_of, start_people_bot

CSV = b"platform,handle,owning_team,business_owner\r\nX,@DeptPress,Hijacked,Mal <UMAL>\r\n"
REFUSED = "Only secbot admins and the business owner"


def linkedin(owner: str, ann: str, bob: str) -> Details:
    return Details(
        "linkedin", "dept-news", team="Press office", owner=Person("Olu Owner", owner),
        access=(Access(Person("Ann Editor", ann), "admin"),
                Access(Person("Bob Writer", bob), "editor")),
    )  # fmt: skip


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector):
    fake_slack.users.update({"UANN": "Ann Editor", "UBOB": "Bob Writer", "UOWN": "Olu Owner",
                             "UMAL": "Mal Icious"})  # fmt: skip
    fake_connector.members.update({"aad-ann": "Ann Editor", "aad-bob": "Bob Writer",
                                   "aad-owner": "Olu Owner", "aad-mal": "Mal Icious"})  # fmt: skip
    clock = FakeClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))  # before 10:00: no worker sends
    b = await start_people_bot(slack_env, clock=clock, slack=fake_slack, connector=fake_connector)
    yield b
    await stop_bot(b)


async def _add(bot, tenant: str, details: Details):
    now = bot.app[SERVICES].clock.now()
    return await register_of(bot).add(tenant, details, by=Actor("x", "admin", "Ada"), now=now)


async def _unchanged(bot, tenant: str, account_id: int, owner: str) -> None:
    same = await register_of(bot).get(tenant, account_id)
    assert same is not None and same.team == "Press office"
    assert same.owner is not None and same.owner.user_id == owner
    assert [a.person.name for a in same.access] == ["Ann Editor", "Bob Writer"]


def _private(fake_slack) -> list[dict]:
    """What secbot said privately, in the order Slack received it (answers through
    response_url and ephemeral posts)."""
    return [
        c.body for c in fake_slack.calls
        if c.path.startswith("/response/") or c.path == "/api/chat.postEphemeral"
    ]  # fmt: skip


async def _slack_said(fake_slack, n: int, words: str) -> None:
    await fake_slack.wait_for(lambda s: [b for b in _private(s)[n:] if words in card_text(b)])


async def test_only_admins_and_the_owner_change_an_account_on_slack(bot, fake_slack):
    tenant = "slack:T111"
    account = await _add(bot, tenant, linkedin("UOWN", "UANN", "UBOB"))

    n = len(_private(fake_slack))
    await bot.slash("/secbot", f"register {account.id}", user="UANN", channel="D0ANN")
    await _slack_said(fake_slack, n, "Olu Owner")  # Ann may see it (she has access)
    n = len(_private(fake_slack))
    await bot.slash("/secbot", f"register remove {account.id}", user="UANN", channel="D0ANN")
    await _slack_said(fake_slack, n, REFUSED)
    for kind in ("owner", "grant"):
        n = len(_private(fake_slack))
        await bot.click(f"register:{kind}", str(account.id), user="UANN", channel="D0ANN",
                        selected_user="UMAL", block_id=f"p1:{account.id}")  # fmt: skip
        await _slack_said(fake_slack, n, REFUSED)
    # An import that would take the account over: Ann is not an admin.
    fake_slack.files["FOWN"] = CSV
    files = [{"id": "FOWN", "name": "register.csv", "size": len(CSV),
              "url_private_download": fake_slack.file_url("FOWN")}]  # fmt: skip
    n = len(_private(fake_slack))
    await bot.slack_post(_file_event(files, user="UANN"), content_type="application/json")
    await _slack_said(fake_slack, n, "Only secbot admins can import")

    # The access review's Remove and the leaver's Confirm removed are the owner's.
    await bot.slash("/secbot", "access review", user="UADMIN", channel="D0ADMIN")
    await fake_slack.wait_for(
        lambda s: [c for c in s.api_calls("chat.postMessage") if c.get("channel") == "UOWN"]
    )
    (review,) = await reviews_of(bot).store.open_reviews(tenant)
    n = len(_private(fake_slack))
    await bot.click("access:remove", button_value(review.id, 1), user="UANN", channel="D0ANN")
    await _slack_said(fake_slack, n, "Only the account's owner and secbot admins")
    await bot.slash("/secbot", "leaver <@UBOB|bob>", user="UADMIN", channel="D0ADMIN")
    (task,) = await fake_slack.wait_for(
        lambda s: [c for c in s.api_calls("chat.postMessage")
                   if c.get("channel") == "UOWN" and "is leaving" in (c.get("text") or "")]
    )  # fmt: skip
    blocks = task["blocks"]
    (value,) = buttons(json.loads(blocks) if isinstance(blocks, str) else blocks, "leaver:confirm")
    n = len(_private(fake_slack))
    await bot.click("leaver:confirm", value, user="UANN", channel="D0ANN")
    await _slack_said(fake_slack, n, "Only the account's owner and secbot admins can confirm")
    assert not await reviews_of(bot).store.decisions(review.id)
    assert (await reviews_of(bot).store.task(tenant, int(value))).confirmed_at is None
    await _unchanged(bot, tenant, account.id, "UOWN")

    # The owner may.
    n = len(_private(fake_slack))
    await bot.slash("/secbot", f"register remove {account.id}", user="UOWN", channel="D0OWN")
    await _slack_said(fake_slack, n, "is no longer in the register")
    assert await register_of(bot).get(tenant, account.id) is None


async def test_only_admins_and_the_owner_change_an_account_in_teams(bot, fake_connector):
    tenant = "teams:tenant-1"
    account = await _add(bot, tenant, linkedin("aad-owner", "aad-ann", "aad-bob"))

    async def ann(verb: str, value: str, **more) -> str:
        """Ann's click: what came back in the invoke's answer and any message after it."""
        n = len(fake_connector.sent())
        status, body = await bot.teams_click(verb, value, aad="aad-ann", personal=True, **more)
        assert status == 200
        return card_text(body) + card_text(fake_connector.sent()[n:])

    n = len(fake_connector.sent())
    await bot.teams_say(f"register remove {account.id}", personal=True, aad="aad-ann")
    (refusal,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert REFUSED in card_text(refusal)
    for kind in ("owner", "grant"):
        assert REFUSED in await ann(f"register:{kind}", str(account.id),
                                    typed={"person": "aad-mal"})  # fmt: skip
    # An import shared in Ann's personal chat.
    fake_connector.files["FOWN"] = CSV
    activity = teams_activity(service_url=bot.connector.url, personal=True, aad="aad-ann")
    activity["attachments"] = [{
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "contentUrl": "https://contoso.sharepoint.com/personal/x/Documents/register.csv",
        "name": "register.csv",
        "content": {"downloadUrl": f"{bot.connector.url}files/FOWN", "uniqueId": "U-FOWN",
                    "fileType": "csv"},
    }]  # fmt: skip
    n = len(fake_connector.sent())
    await bot.teams(activity)
    await fake_connector.wait_for(
        lambda s: [a for a in s.sent()[n:] if "Only secbot admins can import" in card_text(a)]
    )

    await bot.teams_say("access review", mention=True, aad="aad-admin")
    await fake_connector.wait_for(
        lambda s: [a for a in s.sent() if "please check who can get into" in card_text(a)]
    )
    (review,) = await reviews_of(bot).store.open_reviews(tenant)
    assert "Only the account's owner and secbot admins" in await ann(
        "access:remove", button_value(review.id, 1)
    )
    await bot.teams_say("leaver @aad-bob", mention=True, aad="aad-admin")
    (task,) = await fake_connector.wait_for(
        lambda s: [a for a in s.sent() if "Bob Writer is leaving" in card_text(a)]
    )
    (value,) = buttons(task, "leaver:confirm")
    assert "Only the account's owner and secbot admins can confirm" in await ann(
        "leaver:confirm", value
    )
    assert not await reviews_of(bot).store.decisions(review.id)
    assert (await reviews_of(bot).store.task(tenant, int(value))).confirmed_at is None
    await _unchanged(bot, tenant, account.id, "aad-owner")

    n = len(fake_connector.sent())
    await bot.teams_say(f"register remove {account.id}", personal=True, aad="aad-owner")
    (done,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert "is no longer in the register" in card_text(done)
    assert await register_of(bot).get(tenant, account.id) is None
