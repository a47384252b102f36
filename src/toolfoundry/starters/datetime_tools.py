"""Dates and times for agents: the current time anywhere, parsing common date formats to
ISO 8601, time-zone conversion, differences, durations, calendar facts and business days."""

import calendar
import difflib
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import timezone as fixed_offset
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, Field

from toolfoundry.registry.decorator import tool

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Unit = Literal["seconds", "minutes", "hours", "days", "weeks", "months", "years"]

_WEEKDAYS: list[Weekday] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
]
_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (calendar.month_name[number].lower(), calendar.month_abbr[number].lower())
} | {"sept": 9}
_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}
_MAX_SPAN_DAYS = 366 * 100

_WEEKDAY_PREFIX = re.compile(r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE)
_DATE_FORMS = [
    re.compile(r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})"),
    re.compile(r"(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})(?!\d)"),
    re.compile(r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon>[a-z]+)\.?,?\s+(?P<year>\d{4})", re.I),
    re.compile(r"(?P<mon>[a-z]+)\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})", re.I),
    re.compile(r"(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]?"),
]
_TIME = re.compile(
    r"(?P<cjk_half>上午|下午)?\s*"
    r"(?:(?P<hour>\d{1,2})"
    r"(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"|[时點点](?:(?P<cjk_minute>\d{1,2})分)?(?:(?P<cjk_second>\d{1,2})秒)?)?"
    r"\s*(?P<half>[ap]\.?m\.?)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?|[A-Za-z]+/[A-Za-z_]+(?:/[A-Za-z_]+)?)?",
    re.IGNORECASE,
)


class DatetimeInfo(BaseModel):
    """A point in time in several handy forms."""

    iso: str = Field(description="ISO 8601, with the UTC offset when the time zone is known.")
    date: str = Field(description="The calendar date, YYYY-MM-DD.")
    time: str = Field(description="The wall-clock time, HH:MM:SS[.ffffff].")
    weekday: Weekday
    timezone: str | None = Field(description="Time-zone name or offset; null if unknown.")
    utc_offset: str | None = Field(description="Offset from UTC as ±HH:MM; null if unknown.")
    unix_timestamp: float | None = Field(description="Seconds since 1970-01-01 UTC, if known.")
    has_time: bool = Field(description="False when only a date was given (time is midnight).")


class Difference(BaseModel):
    """The span between two points in time."""

    value: float = Field(description="The span in the requested unit; negative if end < start.")
    unit: Unit
    total_seconds: float = Field(description="Elapsed seconds from start to end.")
    components: dict[str, int] = Field(
        description="The span as years, months, days, hours, minutes, seconds (same sign)."
    )


class DateInfo(BaseModel):
    """Calendar facts about one date."""

    date: str
    weekday: Weekday
    weekday_number: int = Field(description="1 = Monday … 7 = Sunday (ISO 8601).")
    iso_year: int = Field(description="The ISO week-numbering year, which may differ near Jan 1.")
    iso_week: int
    day_of_year: int
    quarter: int
    is_weekend: bool = Field(description="Saturday or Sunday.")
    is_leap_year: bool
    days_in_month: int
    week_start: str = Field(description="The Monday of the ISO week.")


class BusinessDays(BaseModel):
    """Working days in a date range."""

    count: int
    dates: list[str] = Field(description="The business days (empty unless list_dates).")
    holidays_skipped: list[str] = Field(description="Given holidays that fell on working days.")


def _zone(name: str) -> tzinfo:
    """An IANA zone, "UTC" or a fixed offset such as "+05:30"."""
    text = name.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    offset = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?", text, re.IGNORECASE)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
        if delta >= timedelta(hours=24):
            raise ValueError(f"UTC offset {name!r} must be less than 24 hours")
        return fixed_offset(sign * delta)
    zones = available_timezones()
    by_lower = {zone.lower(): zone for zone in zones}
    if text.lower() in by_lower:
        return ZoneInfo(by_lower[text.lower()])
    close = difflib.get_close_matches(text, sorted(zones), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(
        f"unknown time zone {name!r}: use an IANA name such as 'Europe/Paris', "
        f"'America/New_York' or 'Asia/Shanghai', 'UTC', or an offset like '+05:30'{hint}"
    )


def _zone_name(moment: datetime) -> str | None:
    if moment.tzinfo is None:
        return None
    if isinstance(moment.tzinfo, ZoneInfo):
        return moment.tzinfo.key
    return "UTC" if moment.utcoffset() == timedelta(0) else _offset(moment)


def _offset(moment: datetime) -> str | None:
    delta = moment.utcoffset()
    if delta is None:
        return None
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _info(moment: datetime, has_time: bool = True) -> DatetimeInfo:
    aware = moment.tzinfo is not None
    return DatetimeInfo(
        iso=moment.isoformat(),
        date=moment.date().isoformat(),
        time=moment.time().isoformat(),
        weekday=_WEEKDAYS[moment.weekday()],
        timezone=_zone_name(moment),
        utc_offset=_offset(moment),
        unix_timestamp=moment.timestamp() if aware else None,
        has_time=has_time,
    )


def _year(text: str) -> int:
    year = int(text)
    # Two-digit years follow the POSIX rule: 69-99 are 1900s, 00-68 are 2000s.
    if len(text) == 2:
        year += 1900 if year >= 69 else 2000
    return year


def _date_part(text: str, day_first: bool) -> tuple[date, str] | None:
    """The date at the start of `text` and the rest of the text, or None if no form matches."""
    text = _WEEKDAY_PREFIX.sub("", text, count=1) if _WEEKDAY_PREFIX.match(text) else text
    for form in _DATE_FORMS:
        match = form.match(text)
        if not match:
            continue
        fields = match.groupdict()
        year = _year(fields["year"])
        if fields.get("mon") is not None:
            month = _MONTHS.get(fields["mon"].lower())
            if month is None:
                continue
            candidates = [(month, int(fields["day"]))]
        elif fields.get("a") is not None:
            a, b = int(fields["a"]), int(fields["b"])
            # Dotted dates (01.03.2024) are day-first everywhere they are used; if the preferred
            # reading is impossible (13/01/2024 month-first), the other one is taken.
            day_first_here = day_first or fields["sep"] == "."
            candidates = [(b, a), (a, b)] if day_first_here else [(a, b), (b, a)]
        else:
            candidates = [(int(fields["month"]), int(fields["day"]))]
        for month, day in candidates:
            try:
                return date(year, month, day), text[match.end() :]
            except ValueError:
                continue
        raise ValueError(f"{text!r} is not a valid calendar date")
    return None


def _time_part(rest: str, text: str) -> tuple[tuple[int, int, int, int], str | None, bool]:
    """(hour, minute, second, microsecond), time-zone text and whether a time was given."""
    rest = re.sub(r"^\s*(?:T|,|\bat\b)?\s*", "", rest, flags=re.IGNORECASE)
    match = _TIME.fullmatch(rest.strip())
    if not match or (
        match["hour"] is not None
        and match["minute"] is None
        and match["half"] is None
        and not re.search(r"[时點点]", match.group(0))
    ):
        raise ValueError(f"cannot read the time in {text!r}; write it as HH:MM[:SS], e.g. 14:30")
    if match["hour"] is None:
        return (0, 0, 0, 0), match["tz"], False
    hour = int(match["hour"])
    minute = int(match["minute"] or match["cjk_minute"] or 0)
    second = int(match["second"] or match["cjk_second"] or 0)
    micro = int((match["fraction"] or "0")[:6].ljust(6, "0"))
    half = (match["half"] or "").lower().replace(".", "")
    if half or match["cjk_half"]:
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} in {text!r} is not valid with am/pm")
        if half == "pm" or match["cjk_half"] == "下午":
            hour = hour % 12 + 12
        else:
            hour %= 12
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{text!r} holds an impossible time {hour}:{minute:02d}:{second:02d}")
    return (hour, minute, second, micro), match["tz"], True


def _parse(text: str, zone: tzinfo | None, day_first: bool = False) -> tuple[datetime, bool]:
    """Parse `text` into a datetime; naive results get `zone` when it is given."""
    cleaned = " ".join(text.strip().split())
    if not cleaned:
        raise ValueError("the date text is empty")
    keyword = cleaned.lower()
    if keyword in ("now", "today", "tomorrow", "yesterday"):
        now = datetime.now(zone or UTC)
        if keyword == "now":
            return now, True
        shift = {"today": 0, "tomorrow": 1, "yesterday": -1}[keyword]
        midnight = datetime.combine(now.date() + timedelta(days=shift), datetime.min.time())
        return midnight.replace(tzinfo=now.tzinfo), False
    if re.fullmatch(r"\d{10}|\d{13}", cleaned):
        # 10 digits are Unix seconds, 13 are milliseconds (JavaScript's Date.now()).
        seconds = int(cleaned) / (1000 if len(cleaned) == 13 else 1)
        moment = datetime.fromtimestamp(seconds, UTC)
        return (moment.astimezone(zone) if zone else moment), True
    try:
        moment = datetime.fromisoformat(cleaned)
        has_time = bool(re.search(r"[T ]\d", cleaned, re.IGNORECASE))
    except ValueError:
        parts = _date_part(cleaned, day_first)
        if parts is None:
            raise ValueError(
                f"cannot parse {text!r} as a date; use a form such as 2024-03-01, "
                f"2024-03-01 14:30, 03/01/2024, 1 March 2024, March 1, 2024 or 2024年3月1日"
            ) from None
        day, rest = parts
        (hour, minute, second, micro), tz_text, has_time = _time_part(rest, text)
        moment = datetime(day.year, day.month, day.day, hour, minute, second, micro)
        if tz_text:
            moment = moment.replace(tzinfo=_zone(tz_text))
    if moment.tzinfo is None and zone is not None:
        moment = moment.replace(tzinfo=zone)
    return moment, has_time


def _add_months(moment: datetime, months: int) -> datetime:
    """Shift by calendar months, clamping the day (Jan 31 + 1 month = Feb 28 or 29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    if not 1 <= year <= 9999:
        raise ValueError(f"the result would be in year {year}, outside 1..9999")
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def _calendar_span(start: datetime, end: datetime, step: int) -> float:
    """Whole plus fractional number of `step`-month periods from start to end (start <= end)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    periods = months // step
    if _add_months(start, periods * step) > end:
        periods -= 1
    anchor = _add_months(start, periods * step)
    following = _add_months(start, (periods + 1) * step)
    return periods + (end - anchor) / (following - anchor)


def _wall(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


@tool(toolkit="datetime", tags=["now", "clock", "timezone", "today"])
def current_time(timezone: str = "UTC") -> DatetimeInfo:
    """Get the current date and time in a time zone.

    Args:
        timezone: IANA time-zone name (e.g. "Asia/Shanghai", "America/New_York"), "UTC" or an
            offset such as "+05:30".

    Returns:
        The current time as ISO 8601 plus its date, weekday, offset and Unix timestamp.
    """
    return _info(datetime.now(_zone(timezone)))


@tool(toolkit="datetime", tags=["parse", "iso8601", "normalize", "date"])
def parse_datetime(text: str, timezone: str | None = None, day_first: bool = False) -> DatetimeInfo:
    """Parse a date or date-time written in a common format into ISO 8601.

    Understands ISO 8601 ("2024-03-01T14:30:00Z"), "2024/03/01", "03/01/2024", "01.03.2024",
    "1 March 2024", "March 1st, 2024 2:30 pm", "Fri, 01 Mar 2024 14:30:00 +0000",
    "2024年3月1日 14:30", Unix timestamps (10 or 13 digits) and now/today/tomorrow/yesterday.

    Args:
        text: The date or date-time to parse.
        timezone: IANA zone or offset in which to read a time that carries no offset; without it
            such times stay zone-less.
        day_first: Read ambiguous numeric dates like 03/04/2024 as day/month (3 April) instead
            of month/day (March 4). Dotted dates (03.04.2024) are always day first.

    Returns:
        The moment as ISO 8601 plus date, time, weekday and, when known, zone and offset.
    """
    zone = _zone(timezone) if timezone is not None else None
    moment, has_time = _parse(text, zone, day_first)
    return _info(moment, has_time)


@tool(toolkit="datetime", tags=["timezone", "convert", "utc"])
def convert_timezone(
    datetime_text: str,
    to_timezone: str,
    from_timezone: str = "UTC",
    day_first: bool = False,
) -> DatetimeInfo:
    """Convert a date-time from one time zone to another, e.g. 09:00 New York time to Tokyo time.

    Args:
        datetime_text: The date-time, in any format `parse_datetime` understands.
        to_timezone: Target IANA zone (e.g. "Asia/Tokyo"), "UTC" or an offset like "+05:30".
        from_timezone: Zone the date-time is in when it carries no offset itself.
        day_first: Read ambiguous numeric dates like 03/04/2024 as day/month.

    Returns:
        The same moment in the target zone.
    """
    target = _zone(to_timezone)
    moment, _ = _parse(datetime_text, _zone(from_timezone), day_first)
    return _info(moment.astimezone(target))


@tool(
    toolkit="datetime",
    tags=["difference", "duration", "between", "age", "elapsed"],
    examples=[
        "how many days from 2023-05-01 until 2023-12-25",
        "age in years of someone born on 1990-04-12",
        "hours elapsed between 09:30 on Monday and 17:00 on Tuesday",
    ],
    version="1.0.1",
)
def datetime_difference(
    start: str,
    end: str,
    unit: Unit = "days",
    timezone: str = "UTC",
    day_first: bool = False,
) -> Difference:
    """Compute the time between two dates or date-times, in seconds up to years.

    Seconds, minutes and hours count elapsed time. Days and weeks count local calendar time (a
    day across a daylight-saving change is still one day); months and years are calendar months
    with a fraction (Jan 15 to Mar 1, 2024 is about 1.52 months).

    Args:
        start: The earlier date or date-time, in any format `parse_datetime` understands.
        end: The later date or date-time; if it is before `start` the result is negative.
        unit: The unit of `value`.
        timezone: Zone for inputs that carry no offset.
        day_first: Read ambiguous numeric dates like 03/04/2024 as day/month.

    Returns:
        The span in the unit, the elapsed seconds and a years-to-seconds breakdown.
    """
    zone = _zone(timezone)
    first, _ = _parse(start, zone, day_first)
    second, _ = _parse(end, zone, day_first)
    second = second.astimezone(first.tzinfo)
    sign = -1 if second < first else 1
    low, high = (first, second) if sign > 0 else (second, first)
    elapsed = (high.astimezone(UTC) - low.astimezone(UTC)).total_seconds()
    if unit in ("months", "years"):
        value = _calendar_span(_wall(low), _wall(high), 1 if unit == "months" else 12)
    elif unit in ("days", "weeks"):
        value = (_wall(high) - _wall(low)).total_seconds() / _SECONDS[unit]
    else:
        value = elapsed / _SECONDS[unit]
    months = int(_calendar_span(_wall(low), _wall(high), 1))
    rest = _wall(high) - _add_months(_wall(low), months)
    components = {
        "years": months // 12,
        "months": months % 12,
        "days": rest.days,
        "hours": rest.seconds // 3600,
        "minutes": rest.seconds % 3600 // 60,
        "seconds": rest.seconds % 60,
    }
    return Difference(
        value=round(sign * value, 9) + 0.0,
        unit=unit,
        total_seconds=sign * elapsed,
        components={key: sign * amount for key, amount in components.items()},
    )


@tool(
    toolkit="datetime",
    tags=["add", "subtract", "shift", "duration", "deadline"],
    examples=[
        "which date is 90 days after 2023-03-10",
        "subtract two weeks from 2024-05-20",
        "the deadline is 6 months from today's date 2024-02-29",
    ],
    version="1.0.1",
)
def add_duration(
    datetime_text: str,
    years: int = 0,
    months: int = 0,
    weeks: float = 0,
    days: float = 0,
    hours: float = 0,
    minutes: float = 0,
    seconds: float = 0,
    timezone: str | None = None,
    day_first: bool = False,
) -> DatetimeInfo:
    """Add (or, with negative amounts, subtract) a duration to a date or date-time.

    Years and months move the calendar and clamp the day (Jan 31 + 1 month = Feb 29 in 2024);
    weeks and days keep the wall-clock time across daylight-saving changes; hours, minutes and
    seconds add elapsed time.

    Args:
        datetime_text: The starting date or date-time, in any format `parse_datetime` understands.
        years: Calendar years to add.
        months: Calendar months to add.
        weeks: Weeks to add.
        days: Days to add.
        hours: Hours to add.
        minutes: Minutes to add.
        seconds: Seconds to add.
        timezone: Zone for a start that carries no offset; without it the result is zone-less.
        day_first: Read ambiguous numeric dates like 03/04/2024 as day/month.

    Returns:
        The resulting moment.
    """
    zone = _zone(timezone) if timezone is not None else None
    moment, has_time = _parse(datetime_text, zone, day_first)
    try:
        moment = _add_months(moment, years * 12 + months) + timedelta(weeks=weeks, days=days)
        elapsed = timedelta(hours=hours, minutes=minutes, seconds=seconds)
        if moment.tzinfo is not None:
            moment = (moment.astimezone(UTC) + elapsed).astimezone(moment.tzinfo)
        else:
            moment += elapsed
    except OverflowError as exc:
        raise ValueError(f"the result is outside years 1..9999: {exc}") from exc
    return _info(moment, has_time or moment.time() != datetime.min.time())


@tool(toolkit="datetime", tags=["weekday", "week number", "calendar", "quarter"])
def date_info(date_text: str, day_first: bool = False) -> DateInfo:
    """Get calendar facts about a date: weekday, ISO week number, day of year, quarter, leap year.

    Args:
        date_text: The date, in any format `parse_datetime` understands.
        day_first: Read ambiguous numeric dates like 03/04/2024 as day/month.

    Returns:
        Weekday, ISO year and week, day of year, quarter, weekend and leap-year flags, month
        length and the Monday of the week.
    """
    day = _parse(date_text, None, day_first)[0].date()
    iso = day.isocalendar()
    return DateInfo(
        date=day.isoformat(),
        weekday=_WEEKDAYS[day.weekday()],
        weekday_number=iso.weekday,
        iso_year=iso.year,
        iso_week=iso.week,
        day_of_year=day.timetuple().tm_yday,
        quarter=(day.month - 1) // 3 + 1,
        is_weekend=day.weekday() >= 5,
        is_leap_year=calendar.isleap(day.year),
        days_in_month=calendar.monthrange(day.year, day.month)[1],
        week_start=(day - timedelta(days=day.weekday())).isoformat(),
    )


@tool(
    toolkit="datetime",
    tags=["business days", "working days", "weekdays", "holidays"],
    examples=["how many working days in March 2024, not counting weekends or holidays"],
    version="1.0.1",
)
def business_days(
    start: str,
    end: str,
    holidays: list[str] | None = None,
    weekend: list[Weekday] | None = None,
    list_dates: bool = True,
) -> BusinessDays:
    """Count and list the business days between two dates (inclusive), skipping weekends, holidays.

    Args:
        start: The first date, in any format `parse_datetime` understands.
        end: The last date (included); must not be before `start`.
        holidays: Dates that are not working days, e.g. ["2024-12-25", "2024-12-26"].
        weekend: Days of the week that are not working days; Saturday and Sunday if omitted.
        list_dates: Also return the business days themselves.

    Returns:
        The number of business days, the days if requested, and the holidays that were skipped.
    """
    first = _parse(start, None)[0].date()
    last = _parse(end, None)[0].date()
    if last < first:
        raise ValueError(f"end {end!r} is before start {start!r}; swap them")
    if (last - first).days > _MAX_SPAN_DAYS:
        raise ValueError(f"the range {start!r} to {end!r} is longer than 100 years")
    off_days = {_WEEKDAYS.index(d) for d in (weekend if weekend is not None else _WEEKDAYS[5:])}
    closed: set[date] = set()
    for holiday in holidays or []:
        try:
            closed.add(_parse(holiday, None)[0].date())
        except ValueError as exc:
            raise ValueError(f"holiday {holiday!r}: {exc}") from exc
    working: list[str] = []
    skipped: list[str] = []
    day = first
    while day <= last:
        if day.weekday() not in off_days:
            (skipped if day in closed else working).append(day.isoformat())
        day += timedelta(days=1)
    return BusinessDays(
        count=len(working), dates=working if list_dates else [], holidays_skipped=skipped
    )
