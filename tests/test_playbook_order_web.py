"""The checklist a reporter gets in the web chat starts in the safe order (issue 15, item 4).

Driven over loopback HTTP through the real app: triage in the web chat, then the
checklist that was posted and the steps the incident stored.
"""

from __future__ import annotations

from tests import incident_support
from tests.incident_support import buttons, desk
from tests.test_incident_web import triage

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack
env = incident_support.env
bot = incident_support.bot

X_HELP = "https://help.x.com/en/safety-and-security/x-account-compromised"


async def first_steps(bot, incident_id: str) -> list[str]:
    return [s.step_id for s in await desk(bot).store.steps.all(incident_id) if s.phase == "first"]


async def checklist_text(bot, incident_id: str) -> str:
    messages = await bot.web_messages(user="web-reporter")
    checklist = next(m for m in messages if m["text"].startswith(f"{incident_id} checklist"))
    assert buttons(checklist["blocks"], "incident:done")
    return str(checklist["blocks"])


async def test_a_locked_out_x_hijack_starts_with_the_recovery_route(bot, fake_pd):
    incident_id, _ = await triage(
        bot,
        "compromised x @dept",
        ["symptoms|rogue-posts:on", "symptoms|next", "access|no", "harmful|no", "personal|no"],
    )
    first = await first_steps(bot, incident_id)
    assert first == [
        "recover-route",
        "notify-security-team",
        "contain-scheduled",
        "evidence-capture",
    ]
    shown = await checklist_text(bot, incident_id)
    assert X_HELP in shown  # X's own page, not general advice
    order = [
        shown.index("help page for a hacked account"),  # the recovery route
        shown.index("security team and your press office"),
        shown.index("Stop scheduled posts"),
        shown.index("Take screenshots before you remove or delete anything"),
    ]
    assert order == sorted(order)
    stored = [s.step_id for s in await desk(bot).store.steps.all(incident_id)]
    assert stored.index("contain-email") < stored.index("contain-password")
    assert stored.index("communicate-press-office") < stored.index("communicate-holding-line")


async def test_an_impersonation_gets_the_report_and_takedown_steps(bot, fake_pd):
    incident_id, _ = await triage(
        bot,
        "compromised facebook @dept",
        ["symptoms|impersonation:on", "symptoms|next", "access|yes", "harmful|no", "personal|no"],
    )
    assert await first_steps(bot, incident_id) == [
        "notify-security-team",
        "evidence-fake-account",
        "recover-impersonation",
    ]
    stored = {s.step_id for s in await desk(bot).store.steps.all(incident_id)}
    assert {"recover-takedown", "communicate-real-account"} <= stored
    assert not {"contain-password", "evidence-capture", "communicate-holding-line"} & stored
    shown = await checklist_text(bot, incident_id)
    assert "Report the fake account" in shown


async def test_a_locked_out_instagram_team_is_sent_to_instagram_hacked_first(bot, fake_pd):
    incident_id, _ = await triage(
        bot,
        "compromised instagram @dept",
        ["symptoms|locked-out:on", "symptoms|next", "access|no", "harmful|no", "personal|no"],
    )
    assert (await first_steps(bot, incident_id))[0] == "recover-route"
    shown = await checklist_text(bot, incident_id)
    assert "https://www.instagram.com/hacked" in shown  # Instagram's own page
    assert shown.index("go to instagram.com/hacked now") < shown.index("security team and")


async def test_a_fake_threads_profile_is_reported_through_the_help_centre(bot, fake_pd):
    incident_id, _ = await triage(
        bot,
        "compromised threads @dept",
        ["symptoms|impersonation:on", "symptoms|next", "access|yes", "harmful|no", "personal|no"],
    )
    assert (await first_steps(bot, incident_id))[-1] == "recover-impersonation"
    shown = await checklist_text(bot, incident_id)
    assert "Report the fake profile to Threads" in shown
    assert "https://help.instagram.com/" in shown
