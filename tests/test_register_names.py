"""People in the register are named as their platform names them, and a name with
brackets in it is still that person (issue 19 item 1), end to end over HTTP in Teams.

Government Teams directories name people "Surname, First (Department)", and Slack names
often carry pronouns ("Ann Smith (she/her)"). The form and the CSV write a person as
``Name <email or chat id> (role)``, so brackets in the name once read back as a role:
saving the form exactly as it was shown took the chat id off the business owner (who
then could not change their own account or get its access reviews), and a register
exported and shared back refused every row with such a person in it.
"""

from __future__ import annotations

import base64
import json

from bot.server import SERVICES
from incidents.register.flows import Register
from tests.incident_support import buttons, card_text
from tests.support import teams_activity

NAME = "Smith, Ann (DCMS)"


def _boxes(card: object) -> dict[str, str]:
    """What each of a card's text boxes holds, as the person sees it before typing."""
    found: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Input.Text":
                found[node["id"]] = node.get("value", "")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def _files(activity: dict) -> list[dict]:
    return [a for a in activity.get("attachments") or [] if a.get("name")]


async def test_a_name_with_brackets_keeps_its_person_through_the_form_and_the_csv(
    running, fake_connector
):
    await running.teams_say("register add", personal=True, aad="aad-owner", name=NAME)
    _, form = await running.teams_click("register:platform", "linkedin", aad="aad-owner",
                                        name=NAME)  # fmt: skip
    boxes = _boxes(form)
    assert boxes["owner"] == NAME  # the owner box starts with the person adding it, by name
    (save,) = buttons(form, "register:save")
    typed = {**boxes, "handle": "Dept page", "people": f"{NAME} (editor)"}
    status, saved = await running.teams_click("register:save", save, aad="aad-owner",
                                              name=NAME, typed=typed)  # fmt: skip
    assert status == 200
    store = running.app[SERVICES].feature(Register).store
    (account,) = await store.accounts("teams:tenant-1")
    assert (account.owner.name, account.owner.user_id) == (NAME, "aad-owner")
    ((person, role),) = [(a.person, a.role) for a in account.details.access]
    assert (person.name, person.user_id, role) == (NAME, "aad-owner", "editor")

    # Saved again as shown, with one change: the owner may still change their account.
    status, _ = await running.teams_click("register:edit", str(account.id), aad="aad-owner",
                                          name=NAME, personal=True)  # fmt: skip
    (edit,) = [a for a in fake_connector.sent() if '"Input.Text"' in json.dumps(a)][-1:]
    boxes = _boxes(edit)
    assert boxes["owner"] == NAME and boxes["people"] == f"{NAME} (editor)"
    edited = {**boxes, "team": "Press office"}
    status, _ = await running.teams_click("register:save", str(account.id), aad="aad-owner",
                                          name=NAME, typed=edited)  # fmt: skip
    account = await store.get("teams:tenant-1", account.id)
    assert account.team == "Press office"
    assert account.owner.user_id == "aad-owner" and account.is_owner("aad-owner")
    assert [a.person.user_id for a in account.details.access] == ["aad-owner"]

    # The register exported and shared straight back: every row reads.
    n = len(fake_connector.sent())
    await running.teams_say("register export", personal=True, aad="aad-admin")
    (sent,) = await fake_connector.wait_for(lambda s: [a for a in s.sent()[n:] if _files(a)])
    (file,) = _files(sent)
    exported = base64.b64decode(file["contentUrl"].split(",", 1)[1])
    assert f'"{NAME} <aad-owner>"' in exported.decode("utf-8")
    fake_connector.files["FBACK"] = exported
    activity = teams_activity(service_url=running.connector.url, personal=True, aad="aad-admin")
    activity["attachments"] = [{
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "contentUrl": "https://contoso.sharepoint.com/personal/x/Documents/register.csv",
        "name": "accounts-register.csv",
        "content": {"downloadUrl": f"{running.connector.url}files/FBACK", "uniqueId": "U-FBACK",
                    "fileType": "csv"},
    }]  # fmt: skip
    n = len(fake_connector.sent())
    await running.teams(activity)
    (preview,) = await fake_connector.wait_for(
        lambda s: [a for a in s.sent()[n:] if "dry run" in card_text(a)]
    )
    assert "1 row good, 0 with problems" in card_text(preview), card_text(preview)
    (staged,) = buttons(preview, "register:apply")
    await running.teams_click("register:apply", staged, aad="aad-admin")
    account = await store.get("teams:tenant-1", account.id)
    assert (account.owner.name, account.owner.user_id) == (NAME, "aad-owner")
    assert [(a.person.name, a.role) for a in account.details.access] == [(NAME, "editor")]
