"""One button codec and one "where to post" codec, in the core."""

from __future__ import annotations

import json

import pytest

from bot.core.actions import button_value, namespace, plain, unique, value_ints, value_parts, verb
from bot.core.model import Place


def test_button_values_round_trip_and_old_colon_values_still_read():
    fields = ("INC-7", "symptoms", "next")
    assert value_parts(button_value(*fields), 3) == fields
    assert value_ints(button_value(12, 3), 2) == (12, 3)
    assert value_ints("12:3", 2) == (12, 3)  # a button posted before the codec
    assert value_ints("12|x", 2) is None and value_ints("1|2|3", 2) is None
    with pytest.raises(ValueError):
        button_value("a|b")


def test_action_ids():
    assert namespace("quiz:answer") == "quiz" and verb("quiz:answer") == "answer"
    assert plain(unique("quiz:answer", 2, 1)) == "quiz:answer"


def test_place_round_trips_through_its_codec():
    place = Place("slack", "T1", "C1", is_direct=False, thread="171.2")
    assert Place.from_json(place.to_json()) == place
    assert json.loads(place.to_json()) == {
        "platform": "slack", "workspace": "T1", "channel": "C1", "is_direct": False,
        "thread": "171.2",
    }  # fmt: skip
    with pytest.raises(ValueError):
        Place.from_dict({"platform": "slack", "channel": ""})


def test_one_command_hint_for_every_place():
    from bot.core.hints import typed

    slack, web = Place("slack", "T1", "C1"), Place("web", "local", "general")
    channel, personal = Place("teams", "t", "19:c"), Place("teams", "t", "a:1", is_direct=True)
    assert typed(slack, "quiz 10m") == "/quiz 10m"
    assert typed(slack, "deadletters", slack_command="secbot") == "/secbot deadletters"
    assert typed(channel, "quiz 10m") == "@secbot quiz 10m"
    assert typed(personal, "quiz 10m") == typed(web, "quiz 10m") == "quiz 10m"
