"""The accounts register end to end in Slack and Teams (issue 19 item 1): the add form
(a Slack modal, an Adaptive Card form in Teams), the owner-only edit,
and a CSV shared as a file checked as a dry run and applied once. The web chat's own
test (tests/test_register_web.py) covers the bad rows one by one."""

from __future__ import annotations

import json

from bot.server import SERVICES
from incidents.register.flows import Register
from tests.incident_support import buttons, card_text
from tests.support import eventually, teams_activity
from tests.test_output_safety import assert_inert, assert_slack_inert

HOSTILE = "<!here> *bold* Press\u202e"
FORM = {
    "handle": "@DeptPress",
    "url": "https://x.com/DeptPress",
    "team": "Press office",
    "owner": "",
    "people": "Ann Editor <ann@dept.gov.uk> (admin)",
    "2fa": "security key",
    "rec_email": "press@dept.gov.uk",
    "rec_phone": "",
    "holder": "Press office shared mailbox",
    "shared": "yes",
    "verified": "applied for",
    "tools": "Hootsuite (scheduling)\nNorthgate Agency (agency)",
    "reviewed": "",
}
CSV = (
    b"platform,handle,owning_team,business_owner,two_factor\r\n"
    b"Instagram,@deptpress,Press office,Olu Owner <olu@dept.gov.uk>,passkey\r\n"
    b"Friendster,@old,Press office,,sms\r\n"
)


def register(bot) -> Register:
    return bot.app[SERVICES].feature(Register)


def said(fake_slack) -> str:
    calls = ("chat.postEphemeral", "chat.update")
    return card_text(fake_slack.responses() + [c for m in calls for c in fake_slack.api_calls(m)])


async def test_the_register_in_slack(running, fake_slack):
    await running.slash("/secbot", "register add", user="UOWNER")
    menu = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Which platform" in card_text(r)]
    )
    assert any(b.get("type") == "actions" for b in menu[0]["blocks"])
    await running.click("register:platform", "x", user="UOWNER")
    (form,) = await fake_slack.wait_for(lambda s: s.views)  # a modal (test_register_modal.py)
    assert "input" in [b["type"] for b in form["blocks"]]
    assert await running.submit(form, FORM, user="UOWNER") == (200, None)
    store = register(running).store
    (account,) = await eventually(lambda: store.accounts("slack:T111"))
    assert account.owner.user_id == "UOWNER" and account.details.two_factor == "security-key"
    assert account.details.tools == ("Hootsuite (scheduling)", "Northgate Agency (agency)")
    await fake_slack.wait_for(lambda s: "#1 X @DeptPress" in said(s))

    # Someone else may not change it; the owner may.
    await running.click("register:save", str(account.id), user="USTRANGER",
                        typed={**FORM, "team": "Hijacked"})  # fmt: skip
    await fake_slack.wait_for(lambda s: "Only secbot admins and the business owner" in said(s))
    await running.click("register:save", str(account.id), user="UOWNER",
                        typed={**FORM, "team": HOSTILE})  # fmt: skip
    await eventually(lambda: _team(store, account.id, "<!here> *bold* Press"))
    await fake_slack.wait_for(lambda s: "bold" in card_text(s.api_calls("chat.update")[-1:]))
    for body in fake_slack.responses() + fake_slack.api_calls("chat.update"):
        assert_slack_inert(body)  # typed text is escaped: no mention, no markup
    # Another workspace doesn't see it, and gets the same words as for a missing number.
    await running.slash("/secbot", f"register {account.id}", user="UOWNER", team="T999")
    await fake_slack.wait_for(lambda s: f"There is no account #{account.id}" in said(s))

    # A CSV shared with the bot: a dry run first, then one import.
    fake_slack.files["FREG"] = CSV
    files = [{"id": "FREG", "name": "register.csv", "size": len(CSV),
              "url_private_download": fake_slack.file_url("FREG")}]  # fmt: skip
    event = _file_event(files, user="UADMIN")
    await running.slack_post(event, content_type="application/json")
    (preview,) = await fake_slack.wait_for(
        lambda s: [c for c in s.api_calls("chat.postEphemeral") if "dry run" in card_text(c)]
    )
    assert "Line 3: unknown platform “Friendster”" in card_text(preview)
    assert len(await store.accounts("slack:T111")) == 1
    (staged,) = buttons(json.loads(preview["blocks"]) if isinstance(preview["blocks"], str)
                        else preview["blocks"], "register:apply")  # fmt: skip
    await running.click("register:apply", staged, user="UADMIN")
    await eventually(lambda: _count(store, 2))


async def _team(store, account_id: int, team: str) -> bool:
    return (await store.get("slack:T111", account_id)).team == team


async def _count(store, n: int) -> bool:
    return len(await store.accounts("slack:T111")) == n


def _file_event(files: list[dict], *, user: str) -> str:
    import time
    import uuid

    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T111",
            "api_app_id": "A111",
            "event_id": f"Ev{uuid.uuid4().hex[:10]}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "subtype": "file_share",
                "user": user,
                "text": "",
                "files": files,
                "channel": "D0ADMIN",
                "channel_type": "im",
                "ts": f"{time.time():.6f}",
            },
        }
    )


async def test_the_register_in_teams(running, fake_connector):
    n = len(fake_connector.sent())
    await running.teams_say("register add", personal=True, aad="aad-owner")
    (menu,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert "Which platform" in card_text(menu)
    status, body = await running.teams_click("register:platform", "linkedin", aad="aad-owner")
    assert '"Input.Text"' in json.dumps(body) and "Handle or page name" in card_text(body)
    (save,) = buttons(body, "register:save")
    status, body = await running.teams_click(
        "register:save", save, aad="aad-owner", typed={**FORM, "handle": "Dept page"}
    )
    assert status == 200
    store = register(running).store
    (account,) = await store.accounts("teams:tenant-1")
    assert account.title == "LinkedIn Dept page" and account.owner.user_id == "aad-owner"
    # Only the owner or an admin may change it.
    status, body = await running.teams_click(
        "register:save", str(account.id), aad="aad-user-2", typed=FORM
    )
    assert "Only secbot admins and the business owner" in card_text(body)
    status, body = await running.teams_click(
        "register:save", str(account.id), aad="aad-admin", typed={**FORM, "2fa": "sms"}
    )
    assert (await store.get("teams:tenant-1", account.id)).details.weak_2fa
    # A CSV shared in the personal chat: a dry run, then applied once by an admin.
    fake_connector.files["FREG"] = CSV
    activity = teams_activity(service_url=running.connector.url, personal=True, aad="aad-admin")
    activity["attachments"] = [{
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "contentUrl": "https://contoso.sharepoint.com/personal/x/Documents/register.csv",
        "name": "register.csv",
        "content": {"downloadUrl": f"{running.connector.url}files/FREG", "uniqueId": "U-FREG",
                    "fileType": "csv"},
    }]  # fmt: skip
    n = len(fake_connector.sent())
    await running.teams(activity)
    (preview,) = await fake_connector.wait_for(
        lambda s: [a for a in s.sent()[n:] if "dry run" in card_text(a)]
    )
    assert "Line 3: unknown platform “Friendster”" in card_text(preview)
    assert len(await store.accounts("teams:tenant-1")) == 1  # a dry run: nothing yet
    (staged,) = buttons(preview, "register:apply")
    await running.teams_click("register:apply", staged, aad="aad-admin")
    assert len(await store.accounts("teams:tenant-1")) == 2
    for activity in fake_connector.sent() + fake_connector.updates():
        assert_inert(json.dumps(activity, ensure_ascii=False))
    # Another tenant: not there.
    n = len(fake_connector.sent())
    await running.teams_say(f"register {account.id}", personal=True, aad="aad-owner",
                            tenant="tenant-2")  # fmt: skip
    (reply,) = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert f"There is no account #{account.id}" in card_text(reply)


async def test_a_slack_dry_run_with_many_bad_rows_shows_each_reason_whole(running, fake_slack):
    """Up to 25 bad rows are listed with their reasons, and an unknown platform's reason
    lists every platform: in one section Slack cut them off at 3,000 characters, the
    "…and 5 more rows with problems" line with them."""
    data = "platform,handle\r\n" + "".join(f"Myspace,@old{n}\r\n" for n in range(30))
    fake_slack.files["FMANY"] = data.encode()
    files = [{"id": "FMANY", "name": "register.csv", "size": len(data),
              "url_private_download": fake_slack.file_url("FMANY")}]  # fmt: skip
    await running.slack_post(_file_event(files, user="UADMIN"), content_type="application/json")
    (preview,) = await fake_slack.wait_for(
        lambda s: [c for c in s.api_calls("chat.postEphemeral") if "dry run" in card_text(c)]
    )
    blocks = json.loads(preview["blocks"]) if isinstance(preview["blocks"], str) else preview[
        "blocks"]  # fmt: skip
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(t) <= 3000 and not t.endswith("…") for t in sections)
    shown = "\n".join(sections)
    assert "0 rows good, 30 with problems" in shown
    assert all(f"Line {n}: unknown platform “Myspace”" in shown for n in range(2, 27))
    assert "…and 5 more rows with problems." in shown
