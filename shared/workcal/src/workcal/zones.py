"""Time zones for sites and countries, checked against the pinned `tzdata` package so every host agrees."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workcal.errors import NaiveDatetimeError, ScheduleError

DEFAULT_TIMEZONE = "Asia/Almaty"
# Kazakhstan has one zone (UTC+5) since 2024-03-01 (tzdata 2024a); Kyrgyzstan is UTC+6.
COUNTRY_TIMEZONES: dict[str, str] = {"KZ": "Asia/Almaty", "KG": "Asia/Bishkek"}
UTC = dt.UTC
# Offsets are compared on the first of every month of these years (the terms the platform computes).
_CHECK_FROM, _CHECK_TO = 2000, 2040
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")


@cache
def zone(key: str) -> ZoneInfo:
    """The zone `key`, checked against the pinned `tzdata` package (a kernel dependency).

    zoneinfo reads the host's database first; a host older than tzdata 2024a still puts Almaty at UTC+6 after
    2024-03-01 and every deadline there would be an hour off. The zone itself is the ordinary `ZoneInfo(key)` (a
    zone read from a file cannot be pickled or deep-copied, and neither could any datetime carrying it); it is
    refused when its offsets disagree with the pinned package — set PYTHONTZPATH="" to use the package alone."""
    if not _ZONE_KEY.fullmatch(key):
        raise ScheduleError(f"unknown time zone {key!r} (expected an IANA name such as 'Asia/Almaty')")
    try:
        found = ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            f"unknown time zone {key!r} (expected an IANA name such as 'Asia/Almaty')"
        ) from exc
    pinned = _pinned(key)
    if pinned is not None:
        for year in range(_CHECK_FROM, _CHECK_TO + 1):
            for month in range(1, 13):
                instant = dt.datetime(year, month, 1, 12, tzinfo=UTC)
                if instant.astimezone(found).utcoffset() != instant.astimezone(pinned).utcoffset():
                    raise ScheduleError(
                        f"the host's time-zone database disagrees with the pinned tzdata package for {key} on "
                        f"{instant:%Y-%m-%d}; update the host's tzdata or run with PYTHONTZPATH=''"
                    )
    return found


def _pinned(key: str) -> ZoneInfo | None:
    try:
        with resources.files("tzdata.zoneinfo").joinpath(*key.split("/")).open("rb") as f:
            return ZoneInfo.from_file(f, key=key)
    except (ModuleNotFoundError, FileNotFoundError, IsADirectoryError, ValueError):
        return None


def require_aware(moment: dt.datetime, what: str) -> dt.datetime:
    """Refuse a naive datetime: its wall-clock time could be UTC or local, and a deadline would silently shift."""
    if not isinstance(moment, dt.datetime):
        raise NaiveDatetimeError(
            f"{what} must be a date and time with a time zone, got {type(moment).__name__}"
        )
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise NaiveDatetimeError(
            f"{what} {moment.isoformat()} has no time zone; give it one (e.g. Asia/Almaty) — "
            "a deadline cannot be computed from a wall-clock time alone"
        )
    return moment


def local_date(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The calendar date of an instant as seen in `tz`."""
    return moment.astimezone(tz).date()


def start_of_day(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """Local midnight opening `day` in `tz`."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz)


def end_of_day(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The last microsecond of `day` in `tz`.

    Taken as (next midnight − 1 µs) through UTC rather than 23:59:59.999999 on the wall clock: on 2024-02-29 Almaty
    lived 23:00–24:00 twice (UTC+6 → UTC+5), and the day ends after the second pass."""
    next_midnight = start_of_day(day + dt.timedelta(days=1), tz).astimezone(UTC)
    return (next_midnight - dt.timedelta(microseconds=1)).astimezone(tz)
