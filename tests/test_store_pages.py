"""The privacy and terms pages the store listings link to, and the manifests that name
them: the Teams manifest's URLs lead to pages the app serves, and the Slack manifest asks
for exactly the scopes the code's Web API calls need."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.packaging import teams_manifest
from tests.support import start_bot, stop_bot, web_chat_env

APP_ID = "12345678-1234-1234-1234-123456789abc"


async def _get(bot, path: str) -> tuple[int, str, dict]:
    async with bot.session.get(bot.url + path.lstrip("/")) as r:
        return r.status, await r.text(), dict(r.headers)


async def test_the_teams_manifest_links_to_pages_the_app_serves(running):
    developer = teams_manifest(APP_ID, "bot.dept.gov.uk")["developer"]
    for key, heading in (("privacyUrl", "Privacy notice"), ("termsOfUseUrl", "Terms of use")):
        url = urlsplit(developer[key])
        assert url.scheme == "https" and url.netloc == "bot.dept.gov.uk"
        status, body, headers = await _get(running, url.path)
        assert status == 200, key
        assert headers["Content-Type"].startswith("text/html")
        assert f"<h1>{heading}: secbot</h1>" in body
        assert "<script" not in body and "<style" not in body
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert "your organisation" in body  # SECBOT_ORGANISATION is not set here


async def test_the_pages_name_the_organisation_and_this_deployments_retention(tmp_path):
    env = {
        **web_chat_env(tmp_path),
        "SECBOT_DB": str(tmp_path / "pages.db"),
        "SECBOT_ORGANISATION": "Department for <Tests> & Examples",
        "SECBOT_WEBCHAT_RETENTION_DAYS": "14",
        "SECBOT_KEEP_QUIZ_ANSWERS": "36h",
    }
    bot = await start_bot(env)
    try:
        _, privacy, _ = await _get(bot, "/privacy")
        _, terms, _ = await _get(bot, "/terms")
    finally:
        await stop_bot(bot)
    for body in (privacy, terms):
        assert "run by Department for &lt;Tests&gt; &amp; Examples" in body
        assert "<Tests>" not in body and "your organisation" not in body
    assert "deleted after 14 days" in privacy
    assert "Each answer is deleted after\n36 hours" in privacy
    assert "deleted\nwhole 730 days after the incident is closed" in privacy
    assert 'href="/terms"' in privacy and 'href="/privacy"' in terms


async def test_the_pages_are_served_with_every_chat_door_off(tmp_path):
    """A Teams-only or Slack-only deployment has no web chat, but its listing still
    links to the pages."""
    env = {"SECBOT_DB": str(tmp_path / "off.db"), "SECBOT_WEBCHAT": "off"}
    bot = await start_bot(env)
    try:
        assert (await _get(bot, "/privacy"))[0] == 200
        assert (await _get(bot, "/"))[0] == 404
    finally:
        await stop_bot(bot)
