"""incidents.times: one formatter for every time a person reads (Europe/London, zone named)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from incidents.times import london, london_seconds


def test_winter_time_is_gmt() -> None:
    assert london(datetime(2026, 12, 4, 19, 5, tzinfo=UTC)) == "Fri 4 Dec 2026, 19:05 GMT"


def test_summer_time_is_bst_an_hour_ahead_of_utc() -> None:
    assert london(datetime(2026, 7, 1, 8, 30, tzinfo=UTC)) == "Wed 1 Jul 2026, 09:30 BST"


def test_other_zones_are_converted_not_relabelled() -> None:
    new_york = timezone(timedelta(hours=-5))
    assert london(datetime(2026, 12, 4, 14, 5, tzinfo=new_york)) == "Fri 4 Dec 2026, 19:05 GMT"


def test_clocks_going_forward_and_back() -> None:
    # 29 March 2026: 01:00 GMT becomes 02:00 BST; 25 October 2026: 02:00 BST becomes 01:00 GMT.
    assert london(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "Sun 29 Mar 2026, 00:59 GMT"
    assert london(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "Sun 29 Mar 2026, 02:00 BST"
    assert london(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == "Sun 25 Oct 2026, 01:30 BST"
    assert london(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == "Sun 25 Oct 2026, 01:30 GMT"


def test_seconds_variant() -> None:
    at = datetime(2026, 12, 4, 19, 5, 7, tzinfo=UTC)
    assert london_seconds(at) == "Fri 4 Dec 2026, 19:05:07 GMT"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        london(datetime(2026, 12, 4, 19, 5))
    with pytest.raises(ValueError):
        london_seconds(datetime(2026, 12, 4, 19, 5))
