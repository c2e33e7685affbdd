"""The register's add and edit form as a Slack modal (issue 19 item 1), end to end over
HTTP: opened with views.open from the click or command that asked for it, submitted as
Slack's ``view_submission``, corrections shown under the field while Slack waits (or
privately, with the form again, when it no longer does), the form in the message when
the modal can't open, and permission checked again on submit. Teams and the web chat
keep their forms in the message (tests/test_register_slack_teams.py, test_register_web.py).
"""

from __future__ import annotations

import json
import logging
import time

import pytest

from bot.server import SERVICES
from incidents.register.flows import Register
from tests.incident_support import buttons, card_text
from tests.support import TEAMS_TEST_ENV, eventually, start_bot, stop_bot
from tests.test_output_safety import assert_slack_inert
from tests.test_register_slack_teams import FORM

OWNER, OTHER, ADMIN = "UOWNER", "UOTHER", "UADMIN"


async def _bot(slack_env, fake_slack, fake_connector, botframework, content_library, seconds):
    env = {
        **slack_env,
        **TEAMS_TEST_ENV,
        "SECBOT_BOTFRAMEWORK_OPENID_URL": botframework.metadata_url,
        "SECBOT_SLACK_DIALOG_ANSWER_SECONDS": seconds,
    }
    return await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library,
        botframework=botframework,
    )  # fmt: skip


@pytest.fixture
async def patient(slack_env, fake_slack, fake_connector, botframework, content_library):
    """The app with a front door that waits long enough for any handler's corrections
    (Slack itself waits 3 s; the default is 2), so the test never depends on speed."""
    bot = await _bot(slack_env, fake_slack, fake_connector, botframework, content_library, "25")
    yield bot
    await stop_bot(bot)


@pytest.fixture
async def hasty(slack_env, fake_slack, fake_connector, botframework, content_library):
    """The app with a front door that never waits for a submission's corrections."""
    bot = await _bot(slack_env, fake_slack, fake_connector, botframework, content_library, "0")
    yield bot
    await stop_bot(bot)


def store(bot):
    return bot.app[SERVICES].feature(Register).store


def private(fake_slack) -> list[dict]:
    """What secbot said privately: ephemeral posts and response_url answers."""
    return fake_slack.api_calls("chat.postEphemeral") + fake_slack.responses()


def said(bodies: list[dict], words: str) -> list[dict]:
    return [b for b in bodies if words in card_text(b)]


def inputs(view: dict) -> dict[str, str]:
    """A view's text boxes: name -> what it starts with."""
    return {
        b["element"]["action_id"]: b["element"].get("initial_value", "")
        for b in view["blocks"]
        if b["type"] == "input"
    }


def block_of(view: dict, name: str) -> str:
    blocks = view["blocks"]
    return next(b["block_id"] for b in blocks if b.get("element", {}).get("action_id") == name)


async def open_add(bot, fake_slack, user: str = OWNER) -> dict:
    n = len(fake_slack.views)
    await bot.click("register:platform", "instagram", user=user)
    views = await fake_slack.wait_for(lambda s: s.views[n:])
    return views[0]


async def test_adding_an_account_in_a_modal(patient, fake_slack):
    await patient.slash("/secbot", "register add", user=OWNER)
    await fake_slack.wait_for(lambda s: said(s.responses(), "Which platform"))
    view = await open_add(patient, fake_slack)
    (opened,) = fake_slack.api_calls("views.open")
    assert opened["trigger_id"].count(".") == 2  # the click's own trigger
    assert view["type"] == "modal" and view["title"]["text"] == "Add an account"
    assert view["submit"]["text"] == "Save" and view["close"]["text"] == "Cancel"
    assert view["callback_id"] == "register:save"
    # The form's Save/Cancel row is the modal's own buttons, not blocks inside it.
    assert not buttons(view["blocks"], "register:save")
    assert {"handle", "people", "2fa", "reviewed"} <= set(inputs(view))
    # What the submission needs is sealed: no plain JSON anyone could edit unnoticed.
    meta = view["private_metadata"]
    assert meta[32] == "." and json.loads(meta[33:])["c"] == "C111"
    # Nothing was posted in the conversation for the form itself.
    assert not [r for r in private(fake_slack) if "Handle or page name" in card_text(r)]

    status, answer = await patient.submit(view, {**FORM, "team": "<!here> Press"}, user=OWNER)
    assert (status, answer) == (200, None)  # saved: the modal closes
    (account,) = await store(patient).accounts("slack:T111")
    assert account.platform == "instagram" and account.owner.user_id == OWNER
    assert account.team == "<!here> Press" and account.details.two_factor == "security-key"
    (card,) = await fake_slack.wait_for(
        lambda s: [c for c in s.api_calls("chat.postEphemeral") if "@DeptPress" in card_text(c)]
    )
    assert card["user"] == OWNER and card["channel"] == "C111"  # privately, where it was opened
    assert_slack_inert(card)


async def test_corrections_show_under_the_field_and_the_next_press_saves(patient, fake_slack):
    view = await open_add(patient, fake_slack)
    status, answer = await patient.submit(view, {**FORM, "reviewed": "last Tuesday"}, user=OWNER)
    assert status == 200 and answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block_of(view, "reviewed")]
    assert "date" in answer["errors"][block_of(view, "reviewed")].lower()
    assert await store(patient).accounts("slack:T111") == []
    # The same modal, corrected and submitted again: a new submission, saved once.
    assert await patient.submit(view, FORM, user=OWNER) == (200, None)
    (account,) = await store(patient).accounts("slack:T111")
    # A second account with the same handle: the correction is under the handle.
    again = await open_add(patient, fake_slack)
    status, answer = await patient.submit(again, FORM, user=OWNER)
    assert list(answer["errors"]) == [block_of(again, "handle")]
    assert f"#{account.id}" in answer["errors"][block_of(again, "handle")]
    assert len(await store(patient).accounts("slack:T111")) == 1


async def test_a_late_correction_comes_privately_with_the_form_again(hasty, fake_slack):
    view = await open_add(hasty, fake_slack)
    typed = {**FORM, "2fa": "carrier pigeon"}
    assert await hasty.submit(view, typed, user=OWNER) == (200, None)  # closes at once
    (again,) = await fake_slack.wait_for(
        lambda s: said(s.api_calls("chat.postEphemeral"), "Nothing was saved")
    )
    assert again["user"] == OWNER and "2FA method" in card_text(again)
    blocks = again["blocks"]
    shown = {b["element"]["action_id"]: b["element"].get("initial_value") for b in blocks
             if b["type"] == "input"}  # fmt: skip
    assert shown["2fa"] == "carrier pigeon" and shown["tools"] == FORM["tools"]  # as typed
    # Pressing Save on that message, corrected, saves it.
    (save,) = buttons(blocks, "register:save")
    await hasty.click("register:save", save, user=OWNER, typed=FORM)
    await eventually(lambda: store(hasty).accounts("slack:T111"))


async def test_editing_checks_permission_again_on_submit(patient, fake_slack):
    view = await open_add(patient, fake_slack)
    await patient.submit(view, FORM, user=OWNER)
    (account,) = await store(patient).accounts("slack:T111")

    # Someone who is neither admin nor owner gets no form at all.
    await patient.slash("/secbot", f"register edit {account.id}", user=OTHER)
    await fake_slack.wait_for(
        lambda s: said(s.responses(), "Only secbot admins and the business")
    )
    # The owner's edit modal shows the account as it is.
    n = len(fake_slack.views)
    await patient.slash("/secbot", f"register edit {account.id}", user=OWNER)
    (edit,) = await fake_slack.wait_for(lambda s: s.views[n:])
    assert edit["title"]["text"] == f"Edit account #{account.id}"
    assert inputs(edit)["handle"] == "@DeptPress" and inputs(edit)["2fa"] == "Security key"
    # While it is open an admin makes someone else the owner: the submit is refused.
    fake_slack.users[OTHER] = "Olu Other"
    await patient.click("register:owner", str(account.id), user=ADMIN, selected_user=OTHER,
                        block_id=f"p1:{account.id}")  # fmt: skip
    await eventually(lambda: _owner(patient, account.id, OTHER))
    status, answer = await patient.submit(edit, {"team": "Hijacked"}, user=OWNER)
    assert (status, answer) == (200, None)
    await fake_slack.wait_for(
        lambda s: [c for c in private(s) if "Only secbot admins and the business" in card_text(c)]
    )
    assert (await store(patient).get("slack:T111", account.id)).team == "Press office"
    # A modal's metadata altered, or submitted by someone it was not opened for: no
    # change, and nothing said (it is no modal of ours).
    forged = {**edit, "private_metadata": edit["private_metadata"].replace("save", "remove")}
    assert await patient.submit(forged, {"team": "Forged"}, user=OWNER) == (200, None)
    assert await patient.submit(edit, {"team": "Forged"}, user=OTHER) == (200, None)
    # (the door answers once the delivery is done with, so this is after both)
    assert (await store(patient).get("slack:T111", account.id)).team == "Press office"
    # The new owner's own edit works.
    n = len(fake_slack.views)
    await patient.click("register:edit", str(account.id), user=OTHER)
    (theirs,) = await fake_slack.wait_for(lambda s: s.views[n:])
    assert await patient.submit(theirs, {"team": "Digital"}, user=OTHER) == (200, None)
    await eventually(lambda: _team(patient, account.id, "Digital"))


async def test_the_form_is_in_the_message_when_the_modal_cannot_open(patient, fake_slack, caplog):
    view = await open_add(patient, fake_slack)
    await patient.submit(view, FORM, user=OWNER)
    (account,) = await store(patient).accounts("slack:T111")
    caplog.set_level(logging.WARNING, "bot.adapters.slack.dialogs")
    # A trigger made four seconds ago: Slack has let it expire.
    stale = f"99.{time.time_ns() // 1_000_000 - 4000}.abc"
    await patient.slash("/secbot", f"register edit {account.id}", user=OWNER, trigger_id=stale)
    (form,) = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Handle or page name" in card_text(r)]
    )
    assert "input" in [b["type"] for b in form["blocks"]]
    assert fake_slack.api_calls("views.open")[-1]["trigger_id"] == stale
    assert len(fake_slack.views) == 1  # only the first modal ever opened
    assert "Slack refused views.open (expired_trigger_id)" in caplog.text
    # The in-message form saves as before.
    (save,) = buttons(form["blocks"], "register:save")
    await patient.click("register:save", save, user=OWNER, typed={**FORM, "team": "Digital"})
    await eventually(lambda: _team(patient, account.id, "Digital"))


async def _owner(bot, account_id: int, user_id: str) -> bool:
    account = await store(bot).get("slack:T111", account_id)
    return account.owner is not None and account.owner.user_id == user_id


async def _team(bot, account_id: int, team: str) -> bool:
    return (await store(bot).get("slack:T111", account_id)).team == team


def test_a_modal_keeps_slacks_limits_and_only_plain_forms_become_one():
    from bot.core.model import Actions, Button, Choice, Message, Section, Select, TextInput
    from bot.render.slack_modal import modal

    form = Message(
        "t",
        (Section("<!here> *Hi*"), TextInput("a", "A"),
         Actions((Button("Cancel", "x:cancel", "1"), Button("Save it " * 9, "x:save", "1",
                                                            "primary")))),
        dialog="A title much longer than twenty-four characters",
    )  # fmt: skip
    view = modal(form, "sealed")
    assert len(view["title"]["text"]) <= 24 and view["title"]["text"].endswith("…")
    assert len(view["submit"]["text"]) <= 24 and view["close"]["text"] == "Cancel"
    assert view["callback_id"] == "x:save" and view["private_metadata"] == "sealed"
    assert [b["type"] for b in view["blocks"]] == ["section", "input"]
    assert_slack_inert(view)
    # No primary button to submit with, or a control of its own to click: not a modal.
    plain = Message("t", (TextInput("a", "A"), Actions((Button("Save", "x:save"),))))
    assert modal(plain, "m") is None
    picking = Message("t", (*form.blocks, Select("x:pick", "Pick", (Choice("a", "b"),))))
    assert modal(picking, "m") is None


async def test_the_saved_card_comes_by_direct_message_where_secbot_cannot_post(
    patient, fake_slack
):
    """A modal opened from a conversation secbot is not in (a slash command there): the
    ephemeral answer is refused, so the card comes in the person's chat with secbot."""
    fake_slack.channel_errors["C0ELSEWHERE"] = "channel_not_found"
    n = len(fake_slack.views)
    await patient.slash("/secbot", "register add", user=OWNER, channel="C0ELSEWHERE")
    await fake_slack.wait_for(lambda s: said(s.responses(), "Which platform"))
    await patient.click("register:platform", "x", user=OWNER, channel="C0ELSEWHERE")
    (view,) = await fake_slack.wait_for(lambda s: s.views[n:])
    assert await patient.submit(view, FORM, user=OWNER) == (200, None)
    (card,) = await fake_slack.wait_for(
        lambda s: [c for c in s.api_calls("chat.postMessage") if c.get("channel") == OWNER]
    )
    assert "@DeptPress" in card_text(card)
