"""The accounts register end to end in the web chat (issue 19 items 1 and the Bad input
rules): add an account with the form, see it, edit it as its owner, be refused as
someone else, import a CSV as a dry run that changes nothing, then apply it once, and
export it again."""

from __future__ import annotations

import base64
from pathlib import Path

from bot import audit
from bot.core.model import PERSON_FIELD
from bot.server import SERVICES
from incidents.register.flows import Register
from tests.incident_support import buttons, card_text

ADMIN, OWNER, OTHER = "web-admin", "web-user-1", "web-user-2"
FORM = {
    "handle": "@DeptPress",
    "url": "https://x.com/DeptPress",
    "team": "Press office",
    "owner": "",
    "people": "Ann Editor <ann@dept.gov.uk> (admin)\nBea Agency <bea@agency.example> (editor)",
    "2fa": "sms",
    "rec_email": "press.person@gmail.com",
    "rec_phone": "+44 20 7946 0000",
    "holder": "Olu Owner",
    "shared": "no",
    "verified": "verified",
    "tools": "Hootsuite (scheduling)",
    "reviewed": "2026-01-31",
}
EXAMPLE = Path(__file__).parent.parent / "docs" / "register-example.csv"


async def web(bot, user: str, *, text: str | None = None, action: dict | None = None,
              upload: dict | None = None) -> list[dict]:  # fmt: skip
    extra = {"upload": upload} if upload else None
    status, body = await bot.web_send(user=user, text=text, action=action, extra=extra)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user)


async def click(bot, user: str, action_id: str, value: str, message: dict, **form: str):
    action = {"action_id": action_id, "value": value, "message_id": str(message["id"])}
    if form:
        action["form"] = form
    return await web(bot, user, action=action)


def register(bot) -> Register:
    return bot.app[SERVICES].feature(Register)


def upload(name: str, data: bytes) -> dict:
    return {"name": name, "content": base64.b64encode(data).decode()}


async def test_add_show_edit_and_refuse_in_the_web_chat(running):
    menu = (await web(running, OWNER, text="register add"))[-1]
    assert "Which platform" in card_text(menu)
    form = (await click(running, OWNER, "register:platform", "x", menu))[-1]
    assert "Handle or page name" in card_text(form)
    (save,) = buttons(form["blocks"], "register:save")
    # A bad field: nothing saved, the reason said.
    said = await click(
        running, OWNER, "register:save", save, form, **{**FORM, "2fa": "carrier pigeon"}
    )
    assert "Nothing was saved: unknown 2FA method" in card_text(said[-1])
    assert await register(running).store.accounts("web:local") == []
    shown = await click(running, OWNER, "register:save", save, form, **FORM)
    (account,) = await register(running).store.accounts("web:local")
    assert account.owner.user_id == OWNER  # no owner typed: the person adding it
    assert [a.person.name for a in account.access] == ["Ann Editor", "Bea Agency"]
    text = card_text(shown)
    assert "Weak 2FA (SMS)" in text and "personal recovery address" in text

    # Adding it again (however the handle is written) is refused, naming the number.
    menu = (await web(running, ADMIN, text="register add"))[-1]
    form2 = (await click(running, ADMIN, "register:platform", "x", menu))[-1]
    (save2,) = buttons(form2["blocks"], "register:save")
    said = await click(
        running, ADMIN, "register:save", save2, form2, **{**FORM, "handle": "deptpress"}
    )
    assert f"in the register already (#{account.id})" in card_text(said[-1])

    # Someone else sees the list and the card, but not the recovery contacts, and can't change it.
    listing = (await web(running, OTHER, text="register"))[-1]
    assert "X @DeptPress" in card_text(listing)
    card = (await web(running, OTHER, text=f"register {account.id}"))[-1]
    assert "Recovery email" not in card_text(card) and not buttons(card["blocks"], "register:edit")
    said = await web(running, OTHER, text=f"register edit {account.id}")
    assert "Only secbot admins and the business owner" in card_text(said[-1])
    forged = {"action_id": "register:save", "value": str(account.id), "form": FORM}
    said = await web(running, OTHER, action=forged)
    assert "Only secbot admins and the business owner" in card_text(said[-1])
    # A number that isn't there and one that is: the same words for a stranger's id.
    missing = card_text((await web(running, OTHER, text="register 999999"))[-1])
    assert "There is no account #999999" in missing
    # No number at all: asked which, with how to find it.
    which = card_text((await web(running, OWNER, text="register edit"))[-1])
    assert "Which account? Type register edit <number>: register lists them." in which

    # The owner edits it: 2FA to a passkey, and picks a colleague as having access.
    card = (await web(running, OWNER, text=f"register edit {account.id}"))[-1]
    (value,) = buttons(card["blocks"], "register:save")
    await click(running, OWNER, "register:save", value, card, **{**FORM, "2fa": "passkey"})
    picked = {"action_id": "register:grant", "value": str(account.id),
              "form": {PERSON_FIELD: "web-user-3"}}  # fmt: skip
    await web(running, OWNER, action=picked)
    after = await register(running).store.get("web:local", account.id)
    assert after.details.two_factor == "passkey"
    assert [a.person.user_id for a in after.access] == ["", "", "web-user-3"]
    assert after.updated_by and after.updated_at


async def test_a_csv_import_is_a_dry_run_until_applied_once_in_the_web_chat(running):
    bad = (
        "platform,handle,owning_team,two_factor,last_review\r\n"
        "X,@good_one,Press office,passkey,2026-02-01\r\n"
        "Myspace,@old,Press office,sms,\r\n"
        "X,@GOOD_ONE,Campaigns,sms,\r\n"
        "Instagram,@short_row\r\n"
        "Facebook,Caf\u00e9 page,Campaigns,telepathy,\r\n"
        "TikTok,@when,Campaigns,sms,31 February\r\n"
        "Bluesky,@dept.bsky.social,Digital,authenticator app,\r\n"
    ).encode("latin-1")  # Latin-1 with CRLF line ends, as an old spreadsheet saves it
    # Anyone but an admin is refused, and nothing is kept.
    said = await web(running, OWNER, upload=upload("register.csv", bad))
    assert "Only secbot admins can import" in card_text(said[-1])
    shown = (await web(running, ADMIN, upload=upload("register.csv", bad)))[-1]
    text = card_text(shown)
    assert "2 rows good, 5 with problems" in text
    assert "Line 3: unknown platform “Myspace”" in text
    assert "Line 4: X @GOOD_ONE is on line 2 already (a duplicate)" in text
    assert "Line 5: 2 columns where the header has 5" in text
    assert "Line 6: unknown 2FA method “telepathy”" in text
    assert "Line 7: the last review date “31 February” is not a date" in text
    assert await register(running).store.accounts("web:local") == []  # the dry run
    (staged,) = buttons(shown["blocks"], "register:apply")
    # Only the person who shared it can apply it.
    said = await web(running, OTHER, action={"action_id": "register:apply", "value": staged})
    assert "not waiting any more" in card_text(said[-1])
    done = await click(running, ADMIN, "register:apply", staged, shown)
    assert "2 accounts added, 0 updated" in card_text(done)
    said = await click(running, ADMIN, "register:apply", staged, shown)  # a double click
    assert "not waiting any more" in card_text(said[-1])
    accounts = await register(running).store.accounts("web:local")
    assert sorted(a.title for a in accounts) == ["Bluesky @dept.bsky.social", "X @good_one"]

    # A header without the handle column: the whole file is refused, saying why.
    shown = (
        await web(running, ADMIN, upload=upload("teams.csv", b"platform,owning_team\nX,Press\n"))
    )[-1]
    assert "The header has no handle column" in card_text(shown)
    assert "Nothing was imported" in card_text(shown)
    # The example CSV in docs/ (saved with a BOM, as Excel does) imports whole.
    data = b"\xef\xbb\xbf" + EXAMPLE.read_bytes()
    shown = (await web(running, ADMIN, upload=upload("example.csv", data)))[-1]
    assert "5 rows good, 0 with problems" in card_text(shown)
    (staged,) = buttons(shown["blocks"], "register:apply")
    await click(running, ADMIN, "register:apply", staged, shown)
    # The file holds recovery contacts and who has access: only in a direct chat.
    said = await web(running, ADMIN, text="register export")
    assert "only send it in a direct message" in card_text(said[-1])
    assert not said[-1].get("attachment")
    status, body = await running.web_send(user=ADMIN, conversation="dm", text="register export")
    assert status == 200 and body["ok"], body
    exported = [m for m in await running.web_messages(user=ADMIN, conversation="dm")
                if m.get("attachment")][-1]  # fmt: skip
    assert "7 accounts" in card_text(exported)
    assert exported["attachment"]["content"].count("\n") == 8  # the header and 7 rows
    said = await web(running, OWNER, text="register export")
    assert "Only secbot admins can export" in card_text(said[-1])


async def test_a_csv_with_lines_before_its_header_or_an_open_quote_is_answered(running):
    """A file with a blank line or Excel's ``sep=;`` line before the header is a register
    import all the same (it was ignored without a word), line numbers are the file's, and
    a quote never closed says so rather than swallowing the rows after it unexplained."""
    data = (
        b"\r\nsep=;\r\n"
        b"platform;handle;owning_team;two_factor\r\n"
        b"X (Twitter);@DeptPress;Press office;passkey\r\n"
        b'Instagram;"@DeptPics;Press office;sms\r\n'
        b"Facebook;DeptNews;Press office;sms\r\n"
    )
    shown = (await web(running, ADMIN, upload=upload("register.csv", data)))[-1]
    text = card_text(shown)
    assert "1 row good, 1 with problems" in text
    assert 'Line 5: a quote (") on this line is never closed, so lines 5 to 6' in text
    (staged,) = buttons(shown["blocks"], "register:apply")
    await click(running, ADMIN, "register:apply", staged, shown)
    (account,) = await register(running).store.accounts("web:local")
    assert account.title == "X @DeptPress" and account.details.two_factor == "passkey"


async def test_a_last_review_in_the_future_is_refused(running):
    """A review date can't be ahead of today: a mistyped year (2062 for 2026) would make
    the account look freshly reviewed, and its quarterly access reviews would never open."""
    menu = (await web(running, ADMIN, text="register add"))[-1]
    form = (await click(running, ADMIN, "register:platform", "x", menu))[-1]
    (save,) = buttons(form["blocks"], "register:save")
    said = await click(running, ADMIN, "register:save", save, form,
                       **{**FORM, "reviewed": "2062-03-31"})  # fmt: skip
    text = card_text(said[-1])
    assert "Nothing was saved: the last review date “2062-03-31” is in the future" in text
    assert await register(running).store.accounts("web:local") == []
    data = (
        b"platform,handle,last_review\r\n"
        b"X,@DeptPress,31/03/2062\r\n"
        b"Instagram,@DeptPics,2026-03-31\r\n"
    )
    shown = card_text((await web(running, ADMIN, upload=upload("register.csv", data)))[-1])
    assert "1 row good, 1 with problems" in shown
    assert "Line 2: the last review date “31/03/2062” is in the future" in shown


async def test_register_changes_are_in_the_audit_log(running):
    """Every register change is an entry in the audit log: who, what, which account."""
    menu = (await web(running, OWNER, text="register add"))[-1]
    form = (await click(running, OWNER, "register:platform", "x", menu))[-1]
    (save,) = buttons(form["blocks"], "register:save")
    await click(running, OWNER, "register:save", save, form, **FORM)
    (account,) = await register(running).store.accounts("web:local")
    await web(running, OWNER, text=f"register remove {account.id}")
    entries = await audit.AuditLog(running.app[SERVICES].db).all()
    assert [(e.actor, e.action, e.target) for e in entries] == [
        (
            "web:web-user-1",
            "added an account to the register",
            f"account #{account.id} (X @DeptPress)",
        ),
        (
            "web:web-user-1",
            "removed an account from the register",
            f"account #{account.id} (X @DeptPress)",
        ),
    ]
