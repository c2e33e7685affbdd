"""docs/incident-guide.md and its screenshots: the browser test walks a reporter through
the web chat and takes the pictures the guide shows, so the guide shows what secbot does.

Run with ``SECBOT_GUIDE_SCREENSHOTS=docs/images`` to write the pictures into the guide's
folder (then commit them); otherwise they go to a temporary folder and only the walk
and the names are checked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.test_webchat_browser import CHROMIUM_FLAGS, _browser_path, sign_in

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "incident-guide.md"
IMAGES = ROOT / "docs" / "images"
# The pictures the guide shows, in the order the walk takes them.
SHOTS = (
    "guide-start.png",
    "guide-question.png",
    "guide-incident.png",
    "guide-checklist.png",
    "guide-progress.png",
    "guide-skip.png",
    "guide-assign.png",
    "guide-need-help.png",
    "guide-close.png",
)
_ID = re.compile(r"SEC-\d{4}-\d{4}")
_IMAGE = re.compile(r"!\[([^\]]+)\]\(images/([^)]+)\)")


def test_the_guide_shows_every_screenshot_and_each_is_there():
    shown = _IMAGE.findall(GUIDE.read_text(encoding="utf-8"))
    assert [name for _, name in shown] == list(SHOTS)
    assert all(alt.strip() for alt, _ in shown), "every picture needs its alt text"
    for name in SHOTS:
        assert (IMAGES / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


async def _last_message(page, text: str):
    message = page.locator("#log .msg", has_text=text).last
    await message.wait_for(timeout=10000)
    return message


async def test_walk_a_report_through_the_web_chat_and_take_the_guides_pictures(running, tmp_path):
    path = _browser_path()
    from playwright.async_api import async_playwright

    folder = Path(os.environ.get("SECBOT_GUIDE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    taken: list[str] = []

    async def shot(message, name: str, end: bool = False) -> None:
        """The message, at most 700 pixels of it: a long checklist is shown by its
        start, a long question (``end``) by its end, where the buttons are."""
        await message.evaluate("(e, end) => e.scrollIntoView(!end)", end)
        box = await message.bounding_box()
        assert box is not None
        height = min(box["height"], 700)
        top = box["y"] + box["height"] - height if end else box["y"]
        clip = {**box, "y": top, "height": height}
        await page.screenshot(path=str(folder / name), clip=clip, animations="disabled")
        taken.append(name)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            # The pictures show whole messages: the log's height cap is lifted with a
            # style the page's CSP would refuse, so only this walk bypasses it.
            context = await browser.new_context(
                viewport={"width": 820, "height": 1000}, bypass_csp=True
            )
            page = await context.new_page()
            await sign_in(page, running)
            await page.add_style_tag(content="#log { max-height: none; }")
            await page.fill("#text", "compromised x @ourdept")
            await page.press("#text", "Enter")
            card = await _last_message(page, "What is happening?")
            await shot(card, "guide-start.png")

            await card.get_by_role("button", name="Posts or messages we didn't send").click()
            card = await _last_message(page, "✓ Posts or messages we didn't send")
            await card.get_by_role("button", name="Next").click()
            card = await _last_message(page, "still log in")
            await shot(card, "guide-question.png")
            await card.get_by_role("button", name="No", exact=True).click()
            card = await _last_message(page, "anything harmful")
            await card.get_by_role("button", name="Yes", exact=True).click()
            card = await _last_message(page, "direct messages")
            await card.get_by_role("button", name="Not sure", exact=True).click()

            incident = await _last_message(page, "Work through the checklist")
            await shot(incident, "guide-incident.png")
            checklist = await _last_message(page, "checklist")
            await shot(checklist, "guide-checklist.png")
            incident_id = _ID.search(await checklist.inner_text()).group(0)

            # Done: the step is ticked and the counts go up, for the phase and the whole.
            await checklist.get_by_role("button", name="Done: step 1").click()
            checklist = await _last_message(page, "Whole checklist: 1 of")
            await shot(checklist, "guide-progress.png")

            # Skip, with a reason from the list (or typed).
            await checklist.get_by_label("More for step 3").select_option(label="Skip…")
            prompt = await _last_message(page, "Why skip step 3")
            await shot(prompt, "guide-skip.png")
            reasons = prompt.get_by_label("Reason for skipping")
            await reasons.select_option(label="Someone else is handling it")
            await _last_message(page, "Skipped step 3")

            # Assign: pick a person, or take it yourself.
            checklist = await _last_message(page, "Whole checklist: 2 of")
            await checklist.get_by_label("More for step 4").select_option(label="Assign…")
            prompt = await _last_message(page, "Who should do step 4")
            await shot(prompt, "guide-assign.png")
            await prompt.get_by_role("button", name="Assign to me").click()
            await _last_message(page, "is now assigned to you")

            # Need help: the commander and the paged team are told.
            checklist = await _last_message(page, "Whole checklist: 2 of")
            await checklist.get_by_label("More for step 5").select_option(label="Need help")
            await shot(
                await _last_message(page, "Asked for help with step 5"), "guide-need-help.png"
            )

            # Closing with steps still open asks first, and lists them.
            await page.fill("#text", f"compromised close {incident_id} We have the account back")
            await page.press("#text", "Enter")
            confirm = await _last_message(page, "Close it anyway?")
            await shot(confirm, "guide-close.png", end=True)
            await confirm.get_by_role("button", name="Close anyway").click()
            await _last_message(page, f"Closing {incident_id}")
        finally:
            await browser.close()
    assert taken == list(SHOTS)
