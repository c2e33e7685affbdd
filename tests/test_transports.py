"""Every transport has the same neutral operations, so a domain never needs a platform
client: post, post privately, update, upload a file, open a room, invite, look a person up."""

from __future__ import annotations

import pytest

from app import SERVICES
from bot.core.model import Place

OPERATIONS = (
    "post", "post_private", "update", "upload", "open_room", "invite", "lookup",
    "thread_under", "direct_place",
)  # fmt: skip


@pytest.mark.parametrize("platform", ["slack", "teams", "web"])
async def test_every_transport_has_every_operation(running, platform):
    transport = running.app[SERVICES].transports[platform]
    assert all(callable(getattr(transport, op, None)) for op in OPERATIONS)


async def test_slack_upload_sends_the_file_to_the_channel(running, fake_slack):
    transport = running.app[SERVICES].transports["slack"]
    await transport.upload(Place("slack", "T1", "C9"), "report.md", "# Report")
    done = await fake_slack.wait_for(lambda s: s.api_calls("files.completeUploadExternal"))
    assert done


async def test_web_upload_shows_a_file_and_lookup_knows_signed_in_people(running):
    transport = running.app[SERVICES].transports["web"]
    place = Place("web", "local", "general")
    await transport.upload(place, "report.md", "# Report")
    messages = await running.web_messages()
    assert any(m.get("attachment", {}).get("filename") == "report.md" for m in messages)
    person = await transport.lookup("local", "web-user-1")
    assert person is not None and person.user_id == "web-user-1" and person.name
    assert await transport.lookup("local", "nobody-here") is None
