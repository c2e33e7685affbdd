"""Daily tips: schedule arithmetic (working days, bank holidays per nation, GMT/BST) and
the per-channel rotation. Pure functions, no app."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.model import Place
from content.tips.rotation import next_tip, rotation_order
from content.tips.schedule import (
    EVERY_DAY,
    WEEKDAYS,
    Schedule,
    ScheduleError,
    bank_holiday,
    describe_days,
    is_delivery_day,
    local_text,
    next_delivery,
    parse_subscribe_args,
)

LONDON = ZoneInfo("Europe/London")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- parsing ---------------------------------------------------------------------------


def test_defaults_are_0930_weekdays_england_and_wales():
    s = parse_subscribe_args("")
    assert s == Schedule(time(9, 30), WEEKDAYS, "england")
    assert s.describe() == "09:30 Monday to Friday, skipping England and Wales bank holidays"


@pytest.mark.parametrize(
    ("args", "at", "days", "nation"),
    [
        ("08:45 mon-fri scotland", time(8, 45), WEEKDAYS, "scotland"),
        ("scotland 08:45", time(8, 45), WEEKDAYS, "scotland"),
        ("7:05 mon,wed,fri", time(7, 5), frozenset({0, 2, 4}), "england"),
        ("weekdays northern-ireland", time(9, 30), WEEKDAYS, "northern-ireland"),
        ("daily 18:00", time(18, 0), EVERY_DAY, "england"),
        ("fri-mon", time(9, 30), frozenset({4, 5, 6, 0}), "england"),
        ("Tuesday,Thursday", time(9, 30), frozenset({1, 3}), "england"),
    ],
)
def test_parse_subscribe_args(args, at, days, nation):
    assert parse_subscribe_args(args) == Schedule(at, days, nation)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ("25:00", "isn't a real time"),
        ("9am", "24-hour clock"),
        ("09:30 funday", "isn't a list of days"),
        ("09:30 10:30", "more than one time"),
        ("mon-fri daily", "more than one set of days"),
        ("scotland england", "more than one nation"),
    ],
)
def test_bad_settings_say_what_to_type(args, words):
    with pytest.raises(ScheduleError) as e:
        parse_subscribe_args(args)
    assert words in str(e.value)
    assert words in e.value.said_at(Place("slack", "T1", "C1"))
    assert "/tip subscribe 08:45 mon-fri scotland" in e.value.said_at(Place("slack", "T1", "C1"))


def test_days_read_naturally():
    assert describe_days(frozenset({0, 2, 4})) == "Monday, Wednesday and Friday"
    assert describe_days(frozenset({1, 2, 3})) == "Tuesday to Thursday"
    assert describe_days(EVERY_DAY) == "every day"


# --- bank holidays per nation -----------------------------------------------------------


def test_2_january_is_a_holiday_in_scotland_only():
    day = date(2026, 1, 2)  # a Friday
    assert bank_holiday(day, "scotland")
    assert bank_holiday(day, "england") is None
    assert is_delivery_day(day, Schedule(nation="england"))
    assert not is_delivery_day(day, Schedule(nation="scotland"))


def test_st_andrews_day_2026_is_skipped_in_scotland_only():
    friday_evening = utc(2026, 11, 27, 18, 0)
    eng = next_delivery(Schedule(nation="england"), LONDON, friday_evening)
    sct = next_delivery(Schedule(nation="scotland"), LONDON, friday_evening)
    assert eng == (date(2026, 11, 30), utc(2026, 11, 30, 9, 30))
    assert sct == (date(2026, 12, 1), utc(2026, 12, 1, 9, 30))
    assert "Andrew" in bank_holiday(date(2026, 11, 30), "scotland")


def test_new_year_england_vs_scotland():
    new_years_eve = utc(2025, 12, 31, 12, 0)
    assert next_delivery(Schedule(nation="england"), LONDON, new_years_eve)[0] == date(2026, 1, 2)
    assert next_delivery(Schedule(nation="scotland"), LONDON, new_years_eve)[0] == date(2026, 1, 5)


def test_easter_monday_and_st_patricks_day_differ_by_nation():
    easter_monday, st_patrick = date(2026, 4, 6), date(2026, 3, 17)
    assert not is_delivery_day(easter_monday, Schedule(nation="england"))
    assert is_delivery_day(easter_monday, Schedule(nation="scotland"))
    assert not is_delivery_day(st_patrick, Schedule(nation="northern-ireland"))
    assert is_delivery_day(st_patrick, Schedule(nation="england"))


def test_weekends_skipped_unless_chosen_but_bank_holidays_always_skipped():
    saturday = date(2026, 3, 28)
    assert not is_delivery_day(saturday, Schedule())
    assert is_delivery_day(saturday, Schedule(days=EVERY_DAY))
    assert not is_delivery_day(date(2026, 12, 25), Schedule(days=EVERY_DAY))


# --- GMT and BST --------------------------------------------------------------------------


def test_0930_stays_0930_local_across_the_spring_change():
    daily = Schedule(days=EVERY_DAY)
    # Saturday 28 March 2026 is GMT; Sunday 29 March is the first day of BST.
    assert next_delivery(daily, LONDON, utc(2026, 3, 28, 0)) == (
        date(2026, 3, 28),
        utc(2026, 3, 28, 9, 30),
    )
    assert next_delivery(daily, LONDON, utc(2026, 3, 28, 10)) == (
        date(2026, 3, 29),
        utc(2026, 3, 29, 8, 30),
    )
    weekdays = Schedule()
    assert next_delivery(weekdays, LONDON, utc(2026, 3, 27, 9, 31)) == (
        date(2026, 3, 30),
        utc(2026, 3, 30, 8, 30),
    )
    assert local_text(utc(2026, 3, 30, 8, 30), LONDON) == "Monday 30 March 2026 at 09:30 BST"


def test_0930_stays_0930_local_across_the_autumn_change():
    daily = Schedule(days=EVERY_DAY)
    # Saturday 24 October 2026 is BST; Sunday 25 October is GMT again.
    assert next_delivery(daily, LONDON, utc(2026, 10, 24, 0))[1] == utc(2026, 10, 24, 8, 30)
    assert next_delivery(daily, LONDON, utc(2026, 10, 24, 9)) == (
        date(2026, 10, 25),
        utc(2026, 10, 25, 9, 30),
    )
    assert local_text(utc(2026, 10, 26, 9, 30), LONDON) == "Monday 26 October 2026 at 09:30 GMT"


def test_times_inside_the_clock_change_fire_once():
    night = Schedule(at=time(1, 30), days=EVERY_DAY)
    # 01:30 does not exist on 29 March: it fires at 01:30 UTC (02:30 BST), once.
    assert next_delivery(night, LONDON, utc(2026, 3, 29, 0)) == (
        date(2026, 3, 29),
        utc(2026, 3, 29, 1, 30),
    )
    # 01:30 happens twice on 25 October: it fires at the first (BST, 00:30 UTC) only.
    day, due = next_delivery(night, LONDON, utc(2026, 10, 24, 23, 0))
    assert (day, due) == (date(2026, 10, 25), utc(2026, 10, 25, 0, 30))
    after = next_delivery(night, LONDON, due, after_day=day)
    assert after[0] == date(2026, 10, 26)


def test_another_time_zone_is_honoured():
    paris = ZoneInfo("Europe/Paris")
    assert next_delivery(Schedule(), paris, utc(2026, 3, 23, 0))[1] == utc(2026, 3, 23, 8, 30)


# --- rotation -----------------------------------------------------------------------------


def test_every_tip_once_per_cycle_in_a_per_channel_order():
    ids = [f"tip-{i:03d}" for i in range(1, 21)]
    served: set[str] = set()
    seen = []
    cycle = 1
    for _ in range(20):
        tip_id, cycle = next_tip("slack:T:C1", cycle, served, ids)
        assert cycle == 1
        served.add(tip_id)
        seen.append(tip_id)
    assert sorted(seen) == ids
    assert next_tip("slack:T:C1", 1, served, ids)[1] == 2  # only now a repeat, in a new cycle
    assert rotation_order("slack:T:C1", 1, ids) != rotation_order("slack:T:C2", 1, ids)
    assert rotation_order("slack:T:C1", 1, ids) != rotation_order("slack:T:C1", 2, ids)


def test_added_tips_join_the_cycle_and_retired_ones_drop_out():
    ids = ["a", "b", "c"]
    order = rotation_order("web:local:general", 1, ids)
    served = {order[0]}
    # A new tip joins without reordering the others; a retired one is never chosen.
    with_new = [*ids, "d"]
    assert [t for t in rotation_order("web:local:general", 1, with_new) if t != "d"] == order
    retired = [t for t in with_new if t != order[1]]
    picks = set()
    cycle = 1
    while True:
        tip_id, cycle = next_tip("web:local:general", cycle, served | picks, retired)
        if cycle != 1:
            break
        picks.add(tip_id)
    assert picks == set(retired) - {order[0]}
    assert order[1] not in picks
