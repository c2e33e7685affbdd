"""Incidents use the core codecs, and what they stored before still reads."""

from __future__ import annotations

from bot.core.hints import typed
from bot.core.model import MessageRef, Place
from tests.test_paging_providers import RecordingTransport, make_ctx, send


def test_an_incident_place_is_stored_as_before():
    # What incidents.store wrote for origin/room before the core codec: same text now.
    old = '{"platform": "teams", "workspace": "t1", "channel": "19:c", "is_direct": false, "thread": null}'  # noqa: E501
    place = Place("teams", "t1", "19:c")
    assert place.to_json() == old and Place.from_json(old) == place


async def test_a_page_posted_before_the_codec_is_still_updated():
    # Chat pages stored their place as dataclasses.asdict(place), Grid org included.
    transport = RecordingTransport()
    old_ref = {
        "place": {
            "platform": "slack",
            "workspace": "T1",
            "channel": "CDUTY",
            "is_direct": False,
            "thread": None,
            "enterprise": "E1",
        },
        "id": "171.1",
    }
    target = {"type": "chat", "platform": "slack", "channel": "CDUTY", "workspace": "T1"}
    ctx = make_ctx(transports={"slack": transport})
    result = await send(ctx, target, action="resolve", ref=old_ref)
    assert result.ok
    ((ref, _),) = transport.updates
    assert ref == MessageRef(Place("slack", "T1", "CDUTY"), "171.1")


def test_incident_hints_are_typed_as_before():
    places = {
        "/compromised status": Place("slack", "T1", "C1"),
        "@secbot compromised status": Place("teams", "t", "19:c"),
        "compromised status": Place("teams", "t", "a:1", is_direct=True),
    }
    for hint, place in places.items():
        assert typed(place, "compromised status") == hint
    assert typed(Place("web", "local", "general"), "compromised status") == "compromised status"
