"""The Slack manifest asks for exactly the bot scopes the code uses.

The Web API methods are found in the source: calls of ``AsyncWebClient`` methods (and
the methods those call, as ``files_upload_v2`` does), and method names used as strings
(the tip fan-out posts to ``chat.postMessage`` itself). Each method's scopes come from
the table in ``bot/adapters/slack/scopes.py``. (tests/test_packaging.py validates the
manifest against Slack's schema.)

And over HTTP: the fake Slack Web API answers ``missing_scope`` for a method whose scope
(from Slack's own reference, kept in the fake apart from our table) the token lacks, so a
bot holding only the manifest's scopes shows the table is right where it matters most: a
page sent to one person's direct messages needs no ``im:write``."""

from __future__ import annotations

import ast
import inspect
import re
from functools import cache
from pathlib import Path

import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.scopes import METHOD_SCOPES, needed_scopes
from bot.core.clock import FakeClock
from tests.fakes.slack_api import SLACK_REFERENCE_SCOPES
from tests.support import start_bot, stop_bot
from tests.test_paging_app import FEATURES, env_for, pager_of
from tests.test_paging_harness import T0, info, routing

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("bot", "content", "incidents", "app.py")
_API_CALL = re.compile(r'api_call\(\s*"([a-zA-Z.]+)"')
_SELF_CALL = re.compile(r"self\.([a-zA-Z_]+)\(")


def _client_methods() -> set[str]:
    return {
        name
        for name, fn in inspect.getmembers(AsyncWebClient, inspect.iscoroutinefunction)
        if not name.startswith("_") and name != "api_call"
    }


@cache
def _api_methods_of(name: str) -> frozenset[str]:
    """The Web API methods one client method calls, following its calls of others."""
    source = inspect.getsource(getattr(AsyncWebClient, name))
    found = set(_API_CALL.findall(source))
    for other in _SELF_CALL.findall(source):
        if other != name and other in _client_methods():
            found |= _api_methods_of(other)
    return frozenset(found)


def _all_api_method_names() -> set[str]:
    return {m for name in _client_methods() for m in _api_methods_of(name)}


def _files() -> list[Path]:
    out: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        out += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return out


def methods_the_code_calls() -> set[str]:
    client_methods = _client_methods()
    api_names = _all_api_method_names()
    found: set[str] = set()
    for path in _files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in client_methods
            ):
                found |= _api_methods_of(node.func.attr)
            elif isinstance(node, ast.Constant) and node.value in api_names:
                found.add(node.value)
    return found


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


def test_the_finder_sees_the_calls_we_know_of():
    """A guard on the scan itself: these calls are in the code today."""
    found = methods_the_code_calls()
    assert {"chat.postMessage", "chat.update", "users.info"} <= found
    assert "files.completeUploadExternal" in found  # through files_upload_v2


def test_every_called_method_has_a_row_and_every_row_is_used():
    found = methods_the_code_calls()
    assert found - set(METHOD_SCOPES) == set(), "add these to bot/adapters/slack/scopes.py"
    assert set(METHOD_SCOPES) - found == set(), "no code calls these any more: remove them"


def test_the_manifest_asks_for_exactly_the_scopes_the_code_uses():
    manifest = _manifest()
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    commands = bool(manifest["features"].get("slash_commands"))
    asked = manifest["oauth_config"]["scopes"]["bot"]
    assert len(asked) == len(set(asked)), "a scope is listed twice"
    assert set(asked) == needed_scopes(methods_the_code_calls(), events, commands)


def test_our_table_agrees_with_slacks_reference_for_every_method_we_call():
    """The fake's scopes come from Slack's reference pages; our table may add a scope a
    method needs in the way we call it (chat:write.public), never leave one out."""
    for method in methods_the_code_calls():
        expected = SLACK_REFERENCE_SCOPES.get(method)
        if expected is not None:
            assert expected in METHOD_SCOPES[method], method
    assert "conversations.open" not in methods_the_code_calls()  # so im:write is not needed


async def test_a_page_to_one_persons_direct_messages_works_with_only_the_manifest_scopes(
    tmp_path, slack_env, fake_slack
):
    fake_slack.granted = set(_manifest()["oauth_config"]["scopes"]["bot"])
    assert "im:write" not in fake_slack.granted
    config = routing(
        {"duty": {"type": "chat", "platform": "slack", "user": "slack:UDUTY"}},
        [{"targets": ["duty"]}],
        members=["slack:UDUTY"],
    )
    env = {**slack_env, **env_for(tmp_path, config, SECBOT_MODE="production")}
    bot = await start_bot(
        env, clock=FakeClock(T0), slack=fake_slack, features=FEATURES, content=False
    )
    try:
        await pager_of(bot).start(info())
        (post,) = await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"))
        assert post["channel"] == "UDUTY"  # the person's id: Slack's DM with the app
        assert fake_slack.refused == []
        # The fake does refuse what the token lacks, so the check above means something.
        fake_slack.granted.discard("chat:write")
        await pager_of(bot).start(info("INC-2"))
        await fake_slack.wait_for(lambda s: s.refused)
        assert fake_slack.refused[0] == ("chat.postMessage", "chat:write")
    finally:
        await stop_bot(bot)
