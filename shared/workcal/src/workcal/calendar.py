"""The production calendar of Kazakhstan or Kyrgyzstan: which days are working days under labour law.

Public holidays come from the `holidays` package (loaded lazily, one year at a time). For both countries it
already carries:

* the holidays of the labour law, with their "observed" days (a holiday on a Saturday or Sunday moves to the next
  working day — KZ since 2002; KG until the Labour Code of 23.01.2025, which replaced observed days by fixed
  New-Year and May holiday runs);
* the government's transfer decrees up to the package's data (KZ to 2025, KG to 2025): the weekday made a day off
  is a holiday named "Day off (substituted from …)", the weekend day made a working day is in `weekend_workdays`;
* Kurban ait (Eid al-Adha) for KZ and Orozo ait / Kurman ait for KG as days off. Kurban ait and Orthodox Christmas
  are never moved to a Monday when they fall on a weekend (KZ labour law; the package follows it). Lunar dates
  are fixed by the Muslim boards each year: past ones are confirmed, future ones are *estimated* (the name ends in
  "(estimated)", see `is_estimated`) and must be corrected with an override when the decree is published.

Everything the package does not know — a decree for a new year, a corrected religious date — is a `DayOverride`,
which always wins over the package.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, get_args
from zoneinfo import ZoneInfo

import holidays

from workcal.errors import CalendarError, ScheduleError, TermError
from workcal.zones import COUNTRY_TIMEZONES, zone

if TYPE_CHECKING:
    from workcal.schedule import Schedule

Country = Literal["KZ", "KG"]
OverrideKind = Literal["working", "day_off", "ordinary"]
# A site that has no working day in this many days is misconfigured: stop instead of looping for ever.
SEARCH_LIMIT_DAYS = 400


class DayKind(StrEnum):
    """What labour law makes of a day, before any site schedule is applied."""

    WORKING = "working"  # Monday–Friday with nothing declared
    WEEKEND = "weekend"  # Saturday or Sunday with nothing declared
    DECREE_WORKING = "decree_working"  # a Saturday or Sunday made a working day by a transfer decree
    HOLIDAY = "holiday"  # public holiday, its observed day, or a day off transferred by decree (package data)
    DAY_OFF = "day_off"  # made a day off by an override


@dataclass(frozen=True, slots=True)
class DayOverride:
    """One day of a government decree (or a correction) that the `holidays` package does not know.

    kind: "working" — the day is a working day (a Saturday or Sunday worked instead of a transferred weekday);
    "day_off" — the day is a day off (the weekday the rest was transferred to, or a corrected religious date);
    "ordinary" — cancel the package's holiday on that day and treat it as its weekday makes it (an estimated
    religious date that turned out wrong)."""

    day: dt.date
    kind: OverrideKind
    reason: str
    source: str

    def __post_init__(self) -> None:
        if isinstance(self.day, dt.datetime) or not isinstance(self.day, dt.date):
            raise CalendarError(f"a calendar override is for a date, got {self.day!r}")
        if self.kind not in get_args(OverrideKind):
            raise CalendarError(
                f"override for {self.day}: kind {self.kind!r} is not one of working, day_off, ordinary"
            )
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise CalendarError(f"override for {self.day}: say why the day changes (reason is empty)")
        if not isinstance(self.source, str) or not self.source.strip():
            raise CalendarError(f"override for {self.day}: cite the decree it comes from (source is empty)")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DayOverride:
        """Build from stored data: `{day: "2026-01-05", kind, reason, source}`."""
        unknown = set(data) - {"day", "kind", "reason", "source"}
        if unknown:
            raise CalendarError(f"calendar override has unknown fields: {', '.join(sorted(unknown))}")
        missing = {"day", "kind", "reason", "source"} - set(data)
        if missing:
            raise CalendarError(f"calendar override lacks: {', '.join(sorted(missing))}")
        raw = data["day"]
        try:
            day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
        except ValueError as exc:
            raise CalendarError(f"calendar override: {raw!r} is not a date (YYYY-MM-DD)") from exc
        return cls(day=day, kind=data["kind"], reason=data["reason"], source=data["source"])


@dataclass(frozen=True, slots=True)
class _Year:
    holidays: Mapping[dt.date, str]
    weekend_workdays: frozenset[dt.date]


def _as_date(day: dt.date) -> dt.date:
    # A datetime is a date subclass but never equals a date key, so it would silently miss every holiday.
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise CalendarError(
            f"the calendar works on dates; got {day!r} — pass the site's local date (moment.astimezone(tz).date())"
        )
    return day


class WorkingCalendar:
    """The production calendar of one country (KZ or KG) with its decree overrides. Pure: no I/O after import."""

    def __init__(self, country: Country, overrides: Iterable[DayOverride] = ()) -> None:
        if country not in COUNTRY_TIMEZONES:
            raise CalendarError(f"no working calendar for country {country!r}: only KZ and KG are supported")
        self._country: Country = country
        by_day: dict[dt.date, DayOverride] = {}
        for override in overrides:
            if not isinstance(override, DayOverride):
                raise CalendarError(f"calendar overrides must be DayOverride, got {type(override).__name__}")
            earlier = by_day.get(override.day)
            if earlier is not None and earlier.kind != override.kind:
                raise CalendarError(
                    f"{override.day} is declared both {earlier.kind} ({earlier.source}) and "
                    f"{override.kind} ({override.source}); keep one"
                )
            by_day[override.day] = override
        self._overrides = by_day
        self._years: dict[int, _Year] = {}

    def __repr__(self) -> str:
        return f"WorkingCalendar({self._country!r}, overrides={len(self._overrides)})"

    @property
    def country(self) -> Country:
        return self._country

    @property
    def timezone(self) -> ZoneInfo:
        """The country's zone: where calendar days of a term end when no site schedule is given."""
        return zone(COUNTRY_TIMEZONES[self._country])

    @property
    def overrides(self) -> tuple[DayOverride, ...]:
        return tuple(sorted(self._overrides.values(), key=lambda o: o.day))

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            data = holidays.country_holidays(self._country, years=year, expand=False, language="en_US")
            cached = _Year(holidays=dict(data), weekend_workdays=frozenset(data.weekend_workdays))
            self._years[year] = cached
        return cached

    def _is_weekend_workday(self, day: dt.date) -> bool:
        # A decree may make a late-December weekend day worked for a day off in January: it is filed under the
        # next year in the package (KZ 2013-12-28 for 2014-01-03).
        years = [day.year] if day.year >= dt.MAXYEAR else [day.year, day.year + 1]
        return any(day in self._year(y).weekend_workdays for y in years)

    def day_kind(self, day: dt.date) -> DayKind:
        day = _as_date(day)
        weekend = day.weekday() >= 5
        override = self._overrides.get(day)
        if override is not None:
            if override.kind == "day_off":
                return DayKind.DAY_OFF
            if override.kind == "working":
                return DayKind.DECREE_WORKING if weekend else DayKind.WORKING
            return DayKind.WEEKEND if weekend else DayKind.WORKING
        if day in self._year(day.year).holidays:
            return DayKind.HOLIDAY
        if weekend and self._is_weekend_workday(day):
            return DayKind.DECREE_WORKING
        return DayKind.WEEKEND if weekend else DayKind.WORKING

    def holiday_name(self, day: dt.date) -> str | None:
        """Why the day is off: the override's reason or the package's (English) holiday name; None otherwise."""
        day = _as_date(day)
        override = self._overrides.get(day)
        if override is not None:
            return override.reason if override.kind == "day_off" else None
        return self._year(day.year).holidays.get(day)

    def is_estimated(self, day: dt.date) -> bool:
        """True when the package only estimates this lunar holiday's date: confirm it with the year's decree."""
        day = _as_date(day)
        if day in self._overrides:
            return False
        name = self._year(day.year).holidays.get(day)
        return name is not None and "(estimated" in name

    def public_holidays(self, year: int) -> dict[dt.date, str]:
        """The package's days off of `year` (without overrides), by date."""
        return dict(sorted(self._year(year).holidays.items()))

    def is_working_day(self, day: dt.date, site_schedule: Schedule | None = None) -> bool:
        """Without a schedule: a working day under labour law. With one: a day the site is open (see
        `Schedule.hours_on` for how Saturdays and decree days are treated)."""
        if site_schedule is None:
            return self.day_kind(day) in (DayKind.WORKING, DayKind.DECREE_WORKING)
        return bool(site_schedule.hours_on(_as_date(day), self))

    def next_working_day(
        self, day: dt.date, site_schedule: Schedule | None = None, *, include_start: bool = False
    ) -> dt.date:
        """The first working day after `day` (or `day` itself with `include_start`)."""
        return self._step(day, +1, site_schedule, include_start)

    def previous_working_day(
        self, day: dt.date, site_schedule: Schedule | None = None, *, include_start: bool = False
    ) -> dt.date:
        """The last working day before `day` (or `day` itself with `include_start`)."""
        return self._step(day, -1, site_schedule, include_start)

    def _step(
        self, day: dt.date, direction: int, site_schedule: Schedule | None, include_start: bool
    ) -> dt.date:
        day = _as_date(day)
        if include_start and self.is_working_day(day, site_schedule):
            return day
        for _ in range(SEARCH_LIMIT_DAYS):
            day += dt.timedelta(days=direction)
            if self.is_working_day(day, site_schedule):
                return day
        where = f"site schedule {site_schedule.name!r}" if site_schedule is not None else "the calendar"
        raise ScheduleError(
            f"{where} has no working day within {SEARCH_LIMIT_DAYS} days of {day}; check its hours"
        )

    def add_working_days(
        self, start: dt.date, n: int, *, start_counted: bool = False, site_schedule: Schedule | None = None
    ) -> dt.date:
        """The n-th working day from `start`. With
        `start_counted=False` ("day of acceptance not counted") the count begins on the next working day."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise TermError(f"a working-day term is at least 1 working day, got {n!r}")
        day = _as_date(start)
        counted = 1 if start_counted and self.is_working_day(day, site_schedule) else 0
        while counted < n:
            day = self.next_working_day(day, site_schedule)
            counted += 1
        return day

    def working_days_between(
        self, earlier: dt.date, later: dt.date, site_schedule: Schedule | None = None
    ) -> int:
        """Working days after `earlier` up to and including `later` (0 when `later` is not after `earlier`)."""
        earlier, later = _as_date(earlier), _as_date(later)
        count = 0
        day = earlier
        while day < later:
            day += dt.timedelta(days=1)
            if self.is_working_day(day, site_schedule):
                count += 1
        return count
