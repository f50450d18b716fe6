"""Times: UTC with Z, zones for offset-less merchant times, text bounds that sort right."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile_tui.times import (
    TimeError,
    bucket_end,
    days_in_period,
    format_utc,
    parse_api_time,
    parse_record_time,
    sql_bound,
    zone,
)


def test_api_times_need_an_offset_and_come_back_in_utc():
    assert parse_api_time("2025-01-15T09:30:00Z") == datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
    assert parse_api_time("2025-01-15T10:30:00+01:00") == datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
    with pytest.raises(TimeError, match="no UTC offset"):
        parse_api_time("2025-01-15T09:30:00")


def test_merchant_times_without_offset_are_read_in_the_mapping_zone_not_the_machines():
    berlin = zone("Europe/Berlin")
    assert parse_record_time("2025-01-15 10:30:00", berlin) == datetime(
        2025, 1, 15, 9, 30, tzinfo=UTC
    )
    assert parse_record_time("2025-07-15 10:30:00", berlin) == datetime(
        2025, 7, 15, 8, 30, tzinfo=UTC
    )
    assert parse_record_time("2025-01-15T10:30:00") == datetime(2025, 1, 15, 10, 30, tzinfo=UTC)
    # An explicit offset wins over the zone.
    assert parse_record_time("2025-01-15T10:30:00Z", berlin) == datetime(
        2025, 1, 15, 10, 30, tzinfo=UTC
    )


def test_custom_date_formats_and_impossible_dates():
    assert parse_record_time("15.01.2025 10:30", UTC, "%d.%m.%Y %H:%M") == datetime(
        2025, 1, 15, 10, 30, tzinfo=UTC
    )
    with pytest.raises(TimeError, match="not a real date"):
        parse_record_time("2025-02-30", UTC)
    with pytest.raises(TimeError, match="not a time"):
        parse_record_time("yesterday", UTC)
    with pytest.raises(TimeError, match=r"expected %d\.%m\.%Y"):
        parse_record_time("2025-01-15", UTC, "%d.%m.%Y")


def test_a_wall_clock_time_skipped_by_daylight_saving_does_not_exist():
    with pytest.raises(TimeError, match="daylight-saving gap"):
        parse_record_time("2025-03-30 02:30:00", zone("Europe/Berlin"))


def test_unknown_zone_is_a_clear_error():
    with pytest.raises(TimeError, match="unknown time zone"):
        zone("Mars/Olympus")


def test_stored_form():
    assert format_utc(datetime(2025, 1, 15, 9, 30, tzinfo=UTC)) == "2025-01-15T09:30:00Z"
    assert (
        format_utc(datetime(2025, 1, 15, 9, 30, 0, 500000, tzinfo=UTC))
        == "2025-01-15T09:30:00.500000Z"
    )
    with pytest.raises(TimeError):
        format_utc(datetime(2025, 1, 15))


def test_buckets_and_periods():
    start = datetime(2025, 1, 9, tzinfo=UTC)
    assert bucket_end(start, "daily") == datetime(2025, 1, 10, tzinfo=UTC)
    assert bucket_end(start, "hourly") == datetime(2025, 1, 9, 1, tzinfo=UTC)
    assert [days_in_period(p) for p in ("24h", "7d", "30d")] == [1, 7, 30]


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(moment=moments, bound=moments)
def test_text_bounds_compare_like_the_times_they_stand_for(moment, bound):
    bound = bound.replace(microsecond=0)
    assert (format_utc(moment) >= sql_bound(bound)) == (moment >= bound)
    assert (format_utc(moment) < sql_bound(bound)) == (moment < bound)


@given(moments, moments)
def test_stored_times_sort_like_times_at_second_precision(a, b):
    a, b = a.replace(microsecond=0), b.replace(microsecond=0)
    assert (format_utc(a) < format_utc(b)) == (a < b)
    assert parse_api_time(format_utc(a)) == a
    # A bucket's stored bounds sort like its instants too: its end is after its start.
    assert format_utc(a) < format_utc(bucket_end(a, "hourly")) < format_utc(bucket_end(a, "daily"))


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+05:00",  # before year 1 in UTC: Python overflows converting it
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-05:00",  # past year 9999 in UTC
        "9999-12-31T00:00:00Z",
        "1899-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
    ],
)
def test_times_outside_the_held_years_are_refused_not_overflowed(text):
    with pytest.raises(TimeError, match="outside the years 1900 to 2999"):
        parse_api_time(text)
    with pytest.raises(TimeError, match="outside the years 1900 to 2999"):
        parse_record_time(text)


def test_offset_less_times_at_the_edge_of_the_years_are_refused_in_any_zone():
    with pytest.raises(TimeError, match="outside the years"):
        parse_record_time("0001-01-01 00:00:00", zone("Asia/Tokyo"))
    with pytest.raises(TimeError, match="outside the years"):
        parse_record_time("9999-12-31 23:00:00", zone("America/New_York"))
    # The first and last held instants are fine, and bucket arithmetic on them works.
    first = parse_api_time("1900-01-01T00:00:00Z")
    last = parse_api_time("2999-12-31T23:59:59Z")
    assert bucket_end(last, "daily") > last > first


@pytest.mark.parametrize("text", ["2024-06-01", "20240601", " 2024-06-01 "])
def test_an_iso_date_without_a_time_of_day_is_not_read_as_midnight_silently(text):
    with pytest.raises(TimeError, match="dates_only = true"):
        parse_record_time(text)
    # Said explicitly (a mapping's `dates_only`), it is that day's midnight in the zone.
    assert parse_record_time(text, zone("Europe/Berlin"), dates_only=True) == datetime(
        2024, 5, 31, 22, 0, tzinfo=UTC
    )
