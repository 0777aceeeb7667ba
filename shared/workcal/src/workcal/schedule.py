"""Working schedules of sites (registry offices, service centres) as data: weekly hours, breaks, per-date exceptions.

A day is a working day at a site when
1. labour law makes it a working day (`WorkingCalendar.day_kind` is WORKING or DECREE_WORKING), or it is an
   ordinary Saturday/Sunday (WEEKEND) and the site's week has hours on that weekday — the service centre's
   Saturday (S004 p.8(2); services.md §10 item 14: the centre works Saturdays except public holidays); and
2. the site has hours that day.
A public holiday, its observed day and a decree day off (HOLIDAY, DAY_OFF) close every site.

A weekend day made a working day by decree (DECREE_WORKING) replaces a weekday that became a day off, so it is
worked with that weekday's hours: a site with no hours of its own on that weekday (the registry office on a
Saturday) uses the hours of `decree_day_hours` (Monday by default; all Monday–Friday hours are the same in the
built-in schedules). A site that works that weekday anyway (the centre's Saturday) keeps its own hours. The same
rule opens the centre on a decree Sunday with its Monday hours; the sources say nothing about that case.

`exceptions` change or cancel the hours of one date on which the site works (a shortened day, a closed day). They
never open a holiday or a weekend: a day becomes a working day only by a calendar decree (`DayOverride`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from workcal.calendar import DayKind
from workcal.errors import ScheduleError
from workcal.zones import DEFAULT_TIMEZONE, zone

if TYPE_CHECKING:
    from workcal.calendar import WorkingCalendar

Interval = tuple[dt.time, dt.time]
Hours = tuple[Interval, ...]
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"(?P<h>\d{1,2}):(?P<m>\d{2})(:(?P<s>\d{2}))?")
_SCHEDULE_KEYS = {"name", "timezone", "weekly", "exceptions", "decree_day_hours", "source"}


_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS = {name: i for i, name in enumerate(WEEKDAY_NAMES)} | {
    name: i for i, name in enumerate(_FULL_NAMES)
}


def _weekday(key: int | str, where: str) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key
    if isinstance(key, str) and key.strip().lower() in _WEEKDAYS:
        return _WEEKDAYS[key.strip().lower()]
    raise ScheduleError(f"{where}: {key!r} is not a weekday (use mon … sun, or 0 = Monday … 6 = Sunday)")


def _time(value: dt.time | str, where: str) -> dt.time:
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise ScheduleError(
                f"{where}: opening times are local wall-clock times; drop the zone from {value}"
            )
        return value
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is not None:
        try:
            return dt.time(int(match["h"]), int(match["m"]), int(match["s"] or 0))
        except ValueError:
            pass
    raise ScheduleError(f"{where}: {value!r} is not a time of day (HH:MM)")


def _fmt(t: dt.time) -> str:
    if t.microsecond:
        return t.isoformat()
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


def _interval(value: Any, where: str) -> Interval:
    if isinstance(value, str):
        parts = value.split("-")
        if len(parts) != 2:
            raise ScheduleError(f"{where}: {value!r} is not an interval (write '09:00-13:00')")
        start, end = _time(parts[0], where), _time(parts[1], where)
    elif isinstance(value, Iterable):
        pair = list(value)
        if len(pair) != 2:
            raise ScheduleError(f"{where}: an interval is [start, end], got {value!r}")
        start, end = _time(pair[0], where), _time(pair[1], where)
    else:
        raise ScheduleError(f"{where}: an interval is [start, end], got {value!r}")
    if not start < end:
        raise ScheduleError(f"{where}: the interval {start:%H:%M}–{end:%H:%M} ends before it starts")
    return (start, end)


def _hours(value: Any, where: str) -> Hours:
    """Intervals of one day, in order; a break is the gap between two of them. Accepts a list of intervals, one
    [start, end] pair, or text such as "09:00-13:00, 14:30-17:30"."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in (p.strip() for p in value.split(",")) if part]
    if not isinstance(value, Iterable):
        raise ScheduleError(f"{where}: hours are a list of intervals, got {value!r}")
    items = list(value)
    # A bare pair of times ("09:00", "13:00") is one interval, not two.
    if len(items) == 2 and all(isinstance(v, (str, dt.time)) and "-" not in str(v) for v in items):
        items = [items]
    intervals = tuple(_interval(v, where) for v in items)
    for (_, end), (start, _) in itertools.pairwise(intervals):
        if not end < start:
            raise ScheduleError(
                f"{where}: intervals must be in order with a break between them "
                f"({end:%H:%M} is not before {start:%H:%M}); merge touching intervals"
            )
    return intervals


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """The opening hours of a kind of site. Build with keyword arguments or `Schedule.from_dict`."""

    name: str
    weekly: Mapping[int, Hours] = field(hash=False)
    timezone: str = DEFAULT_TIMEZONE
    exceptions: Mapping[dt.date, Hours] = field(default_factory=dict, hash=False)
    decree_day_hours: int = 0
    source: str = ""

    def __post_init__(self) -> None:
        if not str(self.name).strip():
            raise ScheduleError("a schedule needs a name")
        where = f"schedule {self.name!r}"
        zone(self.timezone)  # refuse an unknown zone now, not at the first deadline
        if not isinstance(self.weekly, Mapping):
            raise ScheduleError(f"{where}: weekly hours are a mapping weekday → intervals")
        weekly: dict[int, Hours] = dict.fromkeys(range(7), ())
        for weekday_key, value in self.weekly.items():
            weekday = _weekday(weekday_key, f"{where}, weekly")
            weekly[weekday] = _hours(value, f"{where}, {WEEKDAY_NAMES[weekday]}")
        if not any(weekly.values()):
            raise ScheduleError(f"{where}: the site has no working hours on any weekday")
        if not isinstance(self.exceptions, Mapping):
            raise ScheduleError(f"{where}: exceptions are a mapping date → intervals ([] = closed)")
        exceptions: dict[dt.date, Hours] = {}
        for date_key, value in self.exceptions.items():
            date = _exception_date(date_key, where)
            exceptions[date] = _hours(value, f"{where}, exception {date}")
        decree_day = _weekday(self.decree_day_hours, f"{where}, decree_day_hours")
        if not weekly[decree_day]:
            raise ScheduleError(
                f"{where}: decree_day_hours is {WEEKDAY_NAMES[decree_day]}, but the site has no hours that day"
            )
        # Normalised, read-only views: a frozen schedule must not change under a running deadline computation.
        object.__setattr__(self, "weekly", types.MappingProxyType(weekly))
        object.__setattr__(self, "exceptions", types.MappingProxyType(dict(sorted(exceptions.items()))))
        object.__setattr__(self, "decree_day_hours", decree_day)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schedule:
        """Validate stored data (YAML, database). Example:
        `{name, timezone, weekly: {mon: [["09:00", "13:00"], ["14:30", "17:30"]], …}, exceptions: {"2026-12-31": []},
        decree_day_hours: mon, source}`."""
        if not isinstance(data, Mapping):
            raise ScheduleError(f"a schedule is a mapping, got {type(data).__name__}")
        unknown = set(data) - _SCHEDULE_KEYS
        if unknown:
            raise ScheduleError(
                f"schedule {data.get('name')!r} has unknown fields: {', '.join(sorted(unknown))}"
            )
        if "name" not in data or "weekly" not in data:
            raise ScheduleError("a schedule needs at least a name and weekly hours")
        return cls(
            name=str(data["name"]),
            weekly=data["weekly"],
            timezone=str(data.get("timezone") or DEFAULT_TIMEZONE),
            exceptions=data.get("exceptions") or {},
            decree_day_hours=data.get("decree_day_hours", 0),
            source=str(data.get("source") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form; `Schedule.from_dict(s.to_dict()) == s`."""

        def dump(hours: Hours) -> list[list[str]]:
            return [[_fmt(start), _fmt(end)] for start, end in hours]

        return {
            "name": self.name,
            "timezone": self.timezone,
            "weekly": {WEEKDAY_NAMES[d]: dump(h) for d, h in self.weekly.items() if h},
            "exceptions": {d.isoformat(): dump(h) for d, h in self.exceptions.items()},
            "decree_day_hours": WEEKDAY_NAMES[self.decree_day_hours],
            "source": self.source,
        }

    def with_timezone(self, timezone: str) -> Schedule:
        """The same hours in another zone (a Kyrgyz site: Asia/Bishkek)."""
        return dataclasses.replace(self, timezone=timezone)

    def hours_on(self, day: dt.date, calendar: WorkingCalendar) -> Hours:
        """The site's intervals on `day` under `calendar`; empty when the site is closed (rules: module docstring)."""
        kind = calendar.day_kind(day)
        if kind in (DayKind.HOLIDAY, DayKind.DAY_OFF):
            return ()
        own = self.weekly[day.weekday()]
        if kind is DayKind.DECREE_WORKING and not own:
            own = self.weekly[self.decree_day_hours]
        if not own:
            return ()
        return self.exceptions.get(day, own)

    def opening_intervals(
        self, day: dt.date, calendar: WorkingCalendar
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's intervals as aware datetimes in the site's zone."""
        tz = self.tz
        return [
            (dt.datetime.combine(day, start, tzinfo=tz), dt.datetime.combine(day, end, tzinfo=tz))
            for start, end in self.hours_on(day, calendar)
        ]

    def closing_time(self, day: dt.date, calendar: WorkingCalendar) -> dt.datetime | None:
        """When the site's working day ends (end of its last interval), or None when it is closed."""
        hours = self.hours_on(day, calendar)
        if not hours:
            return None
        return dt.datetime.combine(day, hours[-1][1], tzinfo=self.tz)


def _exception_date(key: Any, where: str) -> dt.date:
    if isinstance(key, dt.datetime):
        raise ScheduleError(f"{where}: exception keys are dates, got the moment {key!r}")
    if isinstance(key, dt.date):
        return key
    try:
        return dt.date.fromisoformat(str(key))
    except ValueError as exc:
        raise ScheduleError(f"{where}: exception key {key!r} is not a date (YYYY-MM-DD)") from exc


_OFFICE_DAY: Hours = ((dt.time(9), dt.time(13)), (dt.time(14, 30), dt.time(17, 30)))
_CENTRE_DAY: Hours = ((dt.time(9), dt.time(20)),)

# S004 p.8(1): registry office Monday–Friday 09:00–17:30, break 13:00–14:30 (7 h of working time a day).
REGISTRY_OFFICE = Schedule(
    name="registry_office", weekly=dict.fromkeys(range(5), _OFFICE_DAY), source="S004 p.8(1)"
)
# S004 p.8(2): centre Monday–Saturday 09:00–20:00 without a lunch break; Saturday is worked unless it is a public
# holiday (services.md §10 item 14).
SERVICE_CENTRE = Schedule(
    name="service_centre",
    weekly=dict.fromkeys(range(6), _CENTRE_DAY),
    source="S004 p.8(2); services.md §10 item 14",
)
BUILTIN_SCHEDULES: Mapping[str, Schedule] = types.MappingProxyType(
    {s.name: s for s in (REGISTRY_OFFICE, SERVICE_CENTRE)}
)


def builtin_schedule(
    name: str, *, timezone: str | None = None, exceptions: Mapping[Any, Any] | None = None
) -> Schedule:
    """A built-in schedule by the name sites.yaml uses (`registry_office`, `service_centre`), optionally in another
    zone and with a site's per-date exceptions (`{date or "YYYY-MM-DD": [[start, end], …] or [] for closed}`)."""
    schedule = BUILTIN_SCHEDULES.get(name)
    if schedule is None:
        raise ScheduleError(f"no built-in schedule {name!r}; known: {', '.join(sorted(BUILTIN_SCHEDULES))}")
    changes: dict[str, Any] = {}
    if timezone is not None:
        changes["timezone"] = timezone
    if exceptions:
        changes["exceptions"] = exceptions
    return dataclasses.replace(schedule, **changes) if changes else schedule
