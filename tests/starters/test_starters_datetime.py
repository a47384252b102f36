from datetime import UTC, datetime, timedelta

import pytest

from toolfoundry.starters.datetime_tools import (
    add_duration,
    business_days,
    convert_timezone,
    current_time,
    date_info,
    datetime_difference,
    parse_datetime,
)


def test_current_time_in_a_zone() -> None:
    before = datetime.now(UTC)
    now = current_time("Asia/Shanghai")
    assert now.timezone == "Asia/Shanghai" and now.utc_offset == "+08:00"
    assert now.unix_timestamp is not None
    assert abs(now.unix_timestamp - before.timestamp()) < 5
    assert datetime.fromisoformat(now.iso).utcoffset() == timedelta(hours=8)
    assert current_time().timezone == "UTC"
    assert current_time("america/new_york").timezone == "America/New_York"
    assert current_time("+05:30").utc_offset == "+05:30"


def test_unknown_time_zone_suggests_close_names() -> None:
    with pytest.raises(ValueError, match=r"unknown time zone 'Europe/Pariss'.*Europe/Paris"):
        current_time("Europe/Pariss")
    with pytest.raises(ValueError, match="less than 24 hours"):
        current_time("+25:00")


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024-03-01", "2024-03-01T00:00:00"),
        ("2024-03-01T14:30:00Z", "2024-03-01T14:30:00+00:00"),
        ("20240301", "2024-03-01T00:00:00"),
        ("2024/3/1", "2024-03-01T00:00:00"),
        ("03/01/2024", "2024-03-01T00:00:00"),
        ("13/04/2024", "2024-04-13T00:00:00"),
        ("01.03.2024", "2024-03-01T00:00:00"),
        ("12/25/24", "2024-12-25T00:00:00"),
        ("1 March 2024", "2024-03-01T00:00:00"),
        ("March 1st, 2024 2:30 pm", "2024-03-01T14:30:00"),
        ("Sept 5 2024 at 9:05:07.25", "2024-09-05T09:05:07.250000"),
        ("Fri, 01 Mar 2024 14:30:00 +0000", "2024-03-01T14:30:00+00:00"),
        ("2024-03-01 14:30 Europe/Paris", "2024-03-01T14:30:00+01:00"),
        ("2024年3月1日", "2024-03-01T00:00:00"),
        ("2024年3月1日 14:30", "2024-03-01T14:30:00"),
        ("2024年3月1日 下午3点30分", "2024-03-01T15:30:00"),
        ("1709303400", "2024-03-01T14:30:00+00:00"),
        ("1709303400000", "2024-03-01T14:30:00+00:00"),
    ],
)
def test_parse_common_formats(text: str, iso: str) -> None:
    assert parse_datetime(text).iso == iso


def test_parse_details() -> None:
    parsed = parse_datetime("March 1st, 2024 2:30 pm", timezone="America/New_York")
    assert parsed.utc_offset == "-05:00" and parsed.weekday == "friday" and parsed.has_time
    assert parsed.date == "2024-03-01" and parsed.time == "14:30:00"
    assert not parse_datetime("2024-03-01").has_time
    assert parse_datetime("2024-03-01").timezone is None
    assert parse_datetime("03/04/2024", day_first=True).date == "2024-04-03"
    today = parse_datetime("today", timezone="UTC")
    assert today.date == datetime.now(UTC).date().isoformat() and not today.has_time
    tomorrow = datetime.fromisoformat(parse_datetime("tomorrow").iso)
    assert tomorrow.date() == datetime.now(UTC).date() + timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "cannot parse 'hello' as a date; use a form such as 2024-03-01"),
        ("2024-02-30", "'2024-02-30' is not a valid calendar date"),
        ("31/31/2024", "is not a valid calendar date"),
        ("2024-03-01 25:00", "impossible time 25:00:00"),
        ("March 1, 2024 at noonish", "cannot read the time in"),
        ("March 1, 2024 13pm", "hour 13 .* is not valid with am/pm"),
        ("  ", "the date text is empty"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_datetime(text)


def test_convert_timezone() -> None:
    tokyo = convert_timezone("2024-03-01 09:00", "Asia/Tokyo", from_timezone="America/New_York")
    assert tokyo.iso == "2024-03-01T23:00:00+09:00" and tokyo.timezone == "Asia/Tokyo"
    assert convert_timezone("2024-07-01 12:00", "Europe/London").iso == "2024-07-01T13:00:00+01:00"
    # An offset in the text wins over from_timezone.
    utc = convert_timezone("2024-03-01T12:00:00+02:00", "UTC", from_timezone="Asia/Tokyo")
    assert utc.iso == "2024-03-01T10:00:00+00:00"
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        convert_timezone("2024-03-01", "Mars/Base")


def test_difference_in_days_and_other_units() -> None:
    days = datetime_difference("2024-02-01", "2024-03-01")
    assert days.value == 29 and days.total_seconds == 29 * 86400
    assert days.components == {
        "years": 0, "months": 1, "days": 0, "hours": 0, "minutes": 0, "seconds": 0
    }  # fmt: skip
    assert datetime_difference("2024-03-01", "2024-02-01").value == -29
    assert datetime_difference("2024-03-01 08:00", "2024-03-01 09:30", "minutes").value == 90
    assert datetime_difference("2024-01-01", "2024-01-15", "weeks").value == 2
    assert datetime_difference("2024-01-15", "2024-03-01", "months").value == pytest.approx(
        1 + 15 / 29
    )
    assert datetime_difference("2020-02-29", "2024-02-29", "years").value == 4


def test_difference_across_daylight_saving() -> None:
    start, end = "2024-03-30 12:00", "2024-03-31 12:00"  # Paris moves clocks forward in between
    assert datetime_difference(start, end, "hours", timezone="Europe/Paris").value == 23
    assert datetime_difference(start, end, "days", timezone="Europe/Paris").value == 1


def test_add_duration() -> None:
    assert add_duration("2024-01-31", months=1).date == "2024-02-29"
    assert add_duration("2024-02-29", years=1).date == "2025-02-28"
    assert add_duration("2024-03-01", days=-1).date == "2024-02-29"
    assert add_duration("2024-03-01 10:00", hours=1.5).iso == "2024-03-01T11:30:00"
    assert not add_duration("2024-03-01", weeks=2).has_time
    paris = {"timezone": "Europe/Paris"}
    assert add_duration("2024-03-30 12:00", days=1, **paris).iso == "2024-03-31T12:00:00+02:00"
    assert add_duration("2024-03-30 12:00", hours=24, **paris).iso == "2024-03-31T13:00:00+02:00"
    with pytest.raises(ValueError, match=r"outside (years )?1\.\.9999"):
        add_duration("9999-12-01", months=1)
    with pytest.raises(ValueError, match=r"outside years 1\.\.9999"):
        add_duration("9999-12-31", days=1)


def test_date_info() -> None:
    info = date_info("2024-12-30")
    assert info.weekday == "monday" and info.weekday_number == 1
    assert (info.iso_year, info.iso_week) == (2025, 1)
    assert info.day_of_year == 365 and info.quarter == 4
    assert info.is_leap_year and not info.is_weekend and info.days_in_month == 31
    sunday = date_info("2024年3月3日")
    assert sunday.weekday == "sunday" and sunday.is_weekend and sunday.week_start == "2024-02-26"
    assert date_info("2023-02-10").days_in_month == 28


def test_business_days() -> None:
    result = business_days("2024-12-23", "2025-01-03", holidays=["2024-12-25", "2025-01-01"])
    assert result.count == 8
    assert result.dates[:3] == ["2024-12-23", "2024-12-24", "2024-12-26"]
    assert result.holidays_skipped == ["2024-12-25", "2025-01-01"]
    assert business_days("2024-03-01", "2024-03-31", list_dates=False).count == 21
    assert business_days("2024-03-01", "2024-03-31", list_dates=False).dates == []
    # A Friday-Saturday weekend, as in several Middle Eastern countries.
    gulf = business_days("2024-03-01", "2024-03-07", weekend=["friday", "saturday"])
    assert gulf.dates == ["2024-03-03", "2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"]


def test_business_days_bad_input() -> None:
    with pytest.raises(ValueError, match="is before start"):
        business_days("2024-03-10", "2024-03-01")
    with pytest.raises(ValueError, match="holiday 'Xmas'"):
        business_days("2024-12-01", "2024-12-31", holidays=["Xmas"])
    with pytest.raises(ValueError, match="longer than 100 years"):
        business_days("1900-01-01", "2024-01-01")
