"""The web chat in headless Chromium: type help, see the reply, click a button.

Uses Debian's chromium through Playwright's ``executable_path`` (no browser
download). Locally it skips when no browser is found; in CI
(``SECBOT_REQUIRE_BROWSER=1``) a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil

import pytest

from bot.core.model import Actions, Button, Message, Section
from tests.support import start_bot, stop_bot, web_secret

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("SECBOT_REQUIRE_BROWSER"):
        pytest.fail("no chromium found, and SECBOT_REQUIRE_BROWSER is set (CI must run this test)")
    pytest.skip("no chromium found: install Debian's chromium to run the browser test")


async def sign_in(page, running, user: str = "web-user-1") -> None:
    """Open the page and paste the user's secret, as a person given one would."""
    await page.goto(running.url)
    await page.fill("#secret", web_secret(user))
    await page.press("#secret", "Enter")
    await page.get_by_text("Signed in as Web User").wait_for(timeout=10000)


async def test_type_help_and_click_a_button(running):
    path = _browser_path()
    from playwright.async_api import async_playwright

    clicks: list[str] = []

    async def on_demo(turn):
        clicks.append(turn.incoming.value)
        await turn.reply(
            Message("You clicked it.", (Section(f"You chose {turn.incoming.value}."),))
        )

    async def demo_command(turn):
        await turn.reply(
            Message(
                "Pick one", (Section("Pick one"), Actions((Button("Option A", "demo:pick", "a"),)))
            )
        )

    from app import SERVICES

    registry = running.app[SERVICES].registry
    registry.add_action("demo", on_demo)
    registry.add_command("demo", "A button to click", demo_command, hidden=True)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            console: list[str] = []
            page.on("console", lambda m: console.append(m.text))
            await sign_in(page, running)
            await page.fill("#text", "help")
            await page.press("#text", "Enter")
            await page.get_by_text("Here is what I can do:").wait_for(timeout=10000)
            assert await page.get_by_text("Show what I can do").count() >= 1

            await page.fill("#text", "demo")
            await page.press("#text", "Enter")
            await page.get_by_role("button", name="Option A").click(timeout=10000)
            await page.get_by_text("You chose a.").wait_for(timeout=10000)
            assert clicks == ["a"]

            # Typed markup is shown as text and never runs.
            hostile = '<img src=x onerror="window.pwned=1"> *bold*'
            await page.fill("#text", hostile)
            await page.press("#text", "Enter")
            await page.get_by_text(hostile, exact=True).wait_for(timeout=10000)
            assert await page.evaluate("window.pwned") is None
            assert await page.locator("#log img").count() == 0
            # The script and styles load from /webchat/static under a strict CSP.
            assert not [m for m in console if "Content Security Policy" in m], console
            assert (
                await page.locator("header").evaluate("e => getComputedStyle(e).backgroundColor")
                == "rgb(11, 12, 12)"
            )
        finally:
            await browser.close()


async def test_a_wrong_secret_gets_a_friendly_line_and_the_right_one_signs_in(running):
    """The secret is pasted once and kept for the tab (sessionStorage, never
    localStorage); a wrong one is answered in plain words and nothing is sent."""
    path = _browser_path()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            await page.goto(running.url)
            assert await page.locator("#text").is_hidden()
            await page.fill("#secret", "not-the-secret")
            await page.press("#secret", "Enter")
            await page.get_by_text("That secret wasn't recognised.", exact=False).wait_for(
                timeout=10000
            )
            assert await page.locator("#text").is_hidden()

            await page.fill("#secret", web_secret("web-user-2"))
            await page.press("#secret", "Enter")
            await page.get_by_text("Signed in as Web User").wait_for(timeout=10000)
            stored = await page.evaluate(
                "[sessionStorage.getItem('secbot.secret'), JSON.stringify(localStorage)]"
            )
            assert stored[0] == web_secret("web-user-2")
            assert web_secret("web-user-2") not in stored[1]
            await page.fill("#text", "tip list")
            await page.press("#text", "Enter")
            await page.get_by_text("Only secbot admins", exact=False).wait_for(timeout=10000)

            await page.reload()  # the tab keeps its sign-in
            await page.get_by_text("Signed in as Web User").wait_for(timeout=10000)
            await page.get_by_role("button", name="Sign out").click()
            await page.get_by_text("You have signed out.").wait_for(timeout=10000)
            assert await page.evaluate("sessionStorage.getItem('secbot.secret')") is None
        finally:
            await browser.close()
    (typed,) = [m for m in await running.web_messages(user="web-user-2") if m["sender"] == "user"]
    assert typed["text"] == "tip list"


@pytest.fixture
async def dev_bot(tmp_path, content_library):
    """``make run``: development mode, no accounts anywhere."""
    env = {
        "SECBOT_DB": str(tmp_path / "dev.db"),
        "SECBOT_MODE": "development",
        "SECBOT_ADMINS": "web-admin",
    }
    bot = await start_bot(env, content=content_library)
    yield bot
    await stop_bot(bot)


async def test_user_query_chooses_who_you_are_in_development_mode(dev_bot):
    """``/?user=web-admin`` makes the page act as that id, so local admins can be set."""
    path = _browser_path()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            await page.goto(dev_bot.url + "?user=web-admin")
            await page.get_by_text("Your id: web-admin").wait_for(timeout=10000)
            assert await page.locator("#secret").is_hidden()
            await page.fill("#text", "tip list")
            await page.press("#text", "Enter")
            await page.get_by_text("No channel has subscribed to daily tips yet.").wait_for(
                timeout=10000
            )
            assert await page.get_by_text("Only secbot admins", exact=False).count() == 0
        finally:
            await browser.close()
    msgs = await dev_bot.web_messages(user="web-admin")
    assert msgs[0]["sender"] == "user" and msgs[0]["text"] == "tip list"


async def test_a_long_unbroken_line_wraps_inside_the_chat(running):
    """Evidence is often a long link: it wraps inside its message instead of running off
    the side of the chat."""
    path = _browser_path()
    from playwright.async_api import async_playwright

    long_link = "https://x.com/dept/status/" + "1234567890" * 40
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 800})
            await sign_in(page, running, "web-long")
            await page.fill("#text", f"hello {long_link}")
            await page.press("#text", "Enter")
            await page.get_by_text("Type help to see what I can do.", exact=False).wait_for(
                timeout=10000
            )
            widths = await page.eval_on_selector("#log", "el => [el.scrollWidth, el.clientWidth]")
        finally:
            await browser.close()
    scroll_width, client_width = widths
    assert scroll_width <= client_width


async def _demo_command(running):
    """A `demo` command whose reply has what the chat must make accessible: a heading, a
    link, quiz-style letter buttons, a toggle and a drop-down."""
    from app import SERVICES
    from bot.core.model import Choice, Heading, Select

    async def demo(turn):
        await turn.reply(
            Message(
                "Pick one",
                (
                    Heading("Quick question"),
                    Section(
                        "Read https://www.ncsc.gov.uk/guidance, then javascript:alert(1) "
                        "and http://plain.example/"
                    ),
                    Actions(
                        (
                            Button("A", "demo:pick", "a", accessibility_label="A: Use a passkey"),
                            Button("B", "demo:pick", "b", accessibility_label="B: Share it"),
                            Button("Phishing", "demo:toggle", "p", pressed=True),
                        )
                    ),
                    Select(
                        "demo:reason",
                        "Why skip this step?",
                        (Choice("Done already", "done"), Choice("Other", "other")),
                    ),
                ),
            )
        )

    running.app[SERVICES].registry.add_command("demo", "Accessible bits", demo, hidden=True)


async def test_the_chat_is_accessible(running):
    """Labelled controls, answer buttons named by their answers, aria-pressed on toggles,
    real headings, and no critical or serious axe-core finding."""
    path = _browser_path()
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    await _demo_command(running)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            await page.goto(running.url)
            sign_in_page = await Axe().run(page)
            await page.fill("#secret", web_secret("web-user-1"))
            await page.press("#secret", "Enter")
            await page.get_by_text("Signed in as Web User").wait_for(timeout=10000)
            await page.get_by_label("Message to secbot").fill("demo")
            await page.press("#text", "Enter")
            await page.get_by_role("heading", name="Quick question").wait_for(timeout=10000)
            assert await page.get_by_role("button", name="A: Use a passkey").count() == 1
            toggle = page.get_by_role("button", name="Phishing")
            assert await toggle.get_attribute("aria-pressed") == "true"
            assert await page.get_by_role("combobox", name="Why skip this step?").count() == 1
            assert await page.get_by_role("heading", name="secbot", level=1).count() == 1
            chat_page = await Axe().run(page)
        finally:
            await browser.close()
    for results in (sign_in_page, chat_page):
        bad = [
            v for v in results.response["violations"] if v["impact"] in ("critical", "serious")
        ]
        assert not bad, results.generate_report()


async def test_only_https_links_are_clickable_and_they_open_safely(running):
    path = _browser_path()
    from playwright.async_api import async_playwright

    await _demo_command(running)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            await sign_in(page, running)
            await page.fill("#text", "demo")
            await page.press("#text", "Enter")
            link = page.get_by_role("link", name="https://www.ncsc.gov.uk/guidance")
            await link.wait_for(timeout=10000)
            assert await link.get_attribute("href") == "https://www.ncsc.gov.uk/guidance"
            assert await link.get_attribute("rel") == "noopener noreferrer"
            # The comma after the address is text, and nothing else became a link.
            assert await page.locator("#log a").count() == 1
            assert await page.get_by_text("javascript:alert(1)", exact=False).count() == 1
        finally:
            await browser.close()


async def test_a_message_survives_an_error(running):
    """Too long to send: the error says so and the text is back in the box to shorten."""
    path = _browser_path()
    from playwright.async_api import async_playwright

    long_text = "We have been hacked. " * 120  # over the 2,000 characters allowed
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            await sign_in(page, running)
            await page.fill("#text", long_text)
            await page.press("#text", "Enter")
            await page.get_by_text("That message is too long", exact=False).wait_for(
                timeout=10000
            )
            assert await page.input_value("#text") == long_text.strip()
        finally:
            await browser.close()
    assert [m for m in await running.web_messages() if m["sender"] == "user"] == []


async def test_a_page_sent_to_a_web_chat_room_can_be_read_there(running):
    path = _browser_path()
    from playwright.async_api import async_playwright

    from app import SERVICES
    from bot.core.model import Place

    transport = running.app[SERVICES].transports["web"]
    await transport.post(
        Place("web", "local", "incident-room"),
        Message("Severity 1 incident", (Section("Severity 1 incident on X"),)),
    )
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            await sign_in(page, running)
            room = page.get_by_role("button", name="#incident-room")
            await room.click(timeout=10000)
            assert await room.get_attribute("aria-pressed") == "true"
            await page.get_by_text("Severity 1 incident on X").wait_for(timeout=10000)
        finally:
            await browser.close()
