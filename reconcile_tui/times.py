"""The one place that parses and writes times, and says where a history bucket begins and ends.

Stored times are UTC ISO 8601 with `Z`: `2025-01-15T09:30:00Z`, with `.ffffff` only when
the source had fractions of a second. Every stored time starts with the same 19 fixed-width
characters, so `sql_bound` gives range limits that compare correctly as text.
A time without an offset is read in the zone the caller names (a mapping's zone, default
UTC), never in the machine's.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Final, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Period = Literal["24h", "7d", "30d"]
Interval = Literal["hourly", "daily"]

PERIODS: Final[tuple[Period, ...]] = get_args(Period)
INTERVALS: Final[tuple[Interval, ...]] = get_args(Interval)
DEFAULT_PERIOD: Final[Period] = "7d"
DEFAULT_INTERVAL: Final[Interval] = "daily"

_PERIOD_LENGTH: Final[dict[str, timedelta]] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
_INTERVAL_LENGTH: Final[dict[str, timedelta]] = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
}


class TimeError(ValueError):
    """A text is not an acceptable time; the message says why."""


#: The times the product holds: anything outside is a typo or a hostile value, refused
#: where it is read (a record's file:line, a gateway response), so that adding a period,
#: an interval or a stale threshold to a stored time can never overflow (docs/money.md).
EARLIEST: Final = datetime(1900, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(3000, 1, 1, tzinfo=UTC)


def _held(moment: datetime, text: str) -> datetime:
    """`moment` (aware) in UTC, or TimeError if it lies outside [EARLIEST, LATEST)."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise TimeError(f"{text!r} is outside the years 1900 to 2999")
    return utc


def period_length(period: str) -> timedelta:
    """How long a history period lasts (24h, 7d, 30d)."""
    return _PERIOD_LENGTH[period]


def interval_length(interval: str) -> timedelta:
    """How long one history bucket lasts (hourly, daily)."""
    return _INTERVAL_LENGTH[interval]


def days_in_period(period: str) -> int:
    """Days the API divides by for its `average_daily_*` figures (24h counts as 1)."""
    return max(1, period_length(period).days)


def bucket_end(start: datetime, interval: str) -> datetime:
    """Bucket i covers [timestamp, timestamp + interval): this is the end, excluded."""
    return start + interval_length(interval)


def zone(name: str) -> tzinfo:
    """The time zone called `name` (IANA, e.g. Europe/Berlin), or a clear error."""
    if name.upper() in {"UTC", "Z"}:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)"
        ) from None


#: A gateway time `parse_api_time` takes as written: UTC (`Z` or `+00:00`), seconds and at
#: most six places of them, within [EARLIEST, LATEST). Whatever matches and is a real
#: date is what `datetime.fromisoformat` makes of it, so a reader may take that path
#: first and hand everything else to `parse_api_time`, whose rule and errors stay the
#: only ones (docs/api-client.md, "Bounds: what a response may hold").
UTC_PLAIN_PATTERN: Final = (
    r"(?:19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(?:\.[0-9]{1,6})?(?:Z|\+00:00)"
)


def parse_api_time(text: str) -> datetime:
    """A gateway timestamp (must carry an offset), as an aware UTC datetime."""
    if not isinstance(text, str):
        raise TimeError(f"a time must be text, got {type(text).__name__}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TimeError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise TimeError(f"{text!r} has no UTC offset")
    return _held(moment, text)


def parse_record_time(
    text: str, where: tzinfo = UTC, date_format: str | None = None, *, dates_only: bool = False
) -> datetime:
    """A merchant's timestamp as aware UTC; without an offset it is read in `where`.

    Refuses impossible dates and wall-clock times that do not exist in `where` (skipped by
    a daylight-saving change). An ambiguous time (clocks turned back) is the first one.
    An ISO date without a time of day is refused unless `dates_only` (a mapping that says
    its export has no times): midnight is never invented silently (docs/mapping.md).
    """
    stripped = text.strip()
    if not stripped:
        raise TimeError("time is empty")
    if not date_format and not dates_only and _is_date_only(stripped):
        raise TimeError(
            f"{stripped!r} is a date without a time of day; if the export has no times,"
            " write `dates_only = true` under [csv] in a mapping (records are then stored"
            " at midnight and the import says times are unknown)"
        )
    try:
        moment = (
            datetime.strptime(stripped, date_format)
            if date_format
            else datetime.fromisoformat(stripped)
        )
    except ValueError as error:
        hint = f" (expected {date_format})" if date_format else " (expected ISO 8601)"
        detail = str(error)
        if "out of range" in detail or "must be in" in detail:
            raise TimeError(f"{stripped!r} is not a real date{hint}") from None
        raise TimeError(f"{stripped!r} is not a time{hint}") from None
    if moment.tzinfo is None and date_format and "%Z" in date_format and _SAYS_UTC.search(stripped):
        # strptime's %Z takes `UTC` and `GMT` but leaves the time without a zone: the cell
        # said UTC, whatever zone the mapping gives times written without one.
        where = UTC
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=where)
        utc = _held(moment, stripped)
        back = utc.astimezone(where)
        if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
            raise TimeError(f"{stripped!r} does not exist in {where} (a daylight-saving gap)")
        return utc
    return _held(moment, stripped)


_SAYS_UTC = re.compile(r"\b(?:UTC|GMT)\b")


def _is_date_only(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def format_utc(moment: datetime) -> str:
    """The stored form: `YYYY-MM-DDTHH:MM:SSZ`, with `.ffffff` only for fractional seconds."""
    if moment.tzinfo is None:
        raise TimeError("refusing to format a time without a zone")
    utc = moment.astimezone(UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def sql_bound(moment: datetime) -> str:
    """A range limit for stored times compared as text: `occurred_at >= sql_bound(start)`.

    It is the 19 fixed-width characters without the `Z`, so that `...:00.5Z` sorts after
    `...:00` and `...:00Z` does not sort before it.
    """
    return format_utc(moment.replace(microsecond=0))[:19]


def stored_order(stored: str) -> str:
    """A stored time as text that sorts as the instants do: without its `Z`, so that
    `...:00` (a prefix) sorts before `...:00.5`, where `...:00Z` sorts after `...:00.5Z`
    ('Z' after '.'). Two fractions have six digits each and compare digit by digit."""
    return stored.removesuffix("Z")


def sql_latest(expression: str) -> str:
    """SQL for the latest of the stored times `expression` gives (NULL for none), by
    `stored_order`'s rule, as the stored text (for both stores)."""
    return f"(max(rtrim({expression}, 'Z')) || 'Z')"


def utc_now() -> datetime:
    """The wall clock in UTC. Reconciliation never calls it: it uses the gateway's time."""
    return datetime.now(UTC)


def age_text(delta: timedelta) -> str:
    """A short age for people: `45s`, `12m`, `5h`, `3d 4h`."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    days, rest = divmod(seconds, 86400)
    return f"{days}d {rest // 3600}h" if rest >= 3600 else f"{days}d"
