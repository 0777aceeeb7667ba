"""Deadline arithmetic for legal terms: working time, working days, calendar days, weeks, months, minimum waits.

Every function takes and returns time-zone-aware datetimes and refuses naive ones. Arithmetic is done on UTC
instants (Python compares and subtracts two datetimes of the *same* zone by wall clock, which is wrong across an
offset change such as Almaty's UTC+6 → UTC+5 on 2024-03-01); days are cut in the site's zone.

Reading of the rules (services.md §9):
* minutes / hours / working hours run in the working time of the site doing the step (breaks, nights, weekends and
  holidays do not count); the regulations' plain "hours" are working time by default (`clock_hours=True` on `due`
  counts them on the clock instead);
* a working-day term ends when the site's working day of its n-th working day ends (17:30 at a registry office);
* calendar days, weeks and months ignore the working calendar and end at the last microsecond of their last day;
* a minimum wait ("not before one month after the application") gives the first moment the act may be done.
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from workcal.calendar import SEARCH_LIMIT_DAYS, WorkingCalendar
from workcal.errors import ScheduleError, TermError
from workcal.schedule import Schedule
from workcal.term import MINUTES_PER, Term
from workcal.zones import (
    DEFAULT_TIMEZONE,
    UTC,
    end_of_day,
    local_date,
    require_aware,
    start_of_day,
    zone,
)


def _count(n: object, what: str, minimum: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TermError(f"{what} must be a whole number, got {n!r}")
    if n < minimum:
        raise TermError(f"{what} must be at least {minimum}, got {n}")
    return n


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else zone(tz)


def _need_site(
    schedule: Schedule | None, calendar: WorkingCalendar | None, what: str
) -> tuple[Schedule, WorkingCalendar]:
    if not isinstance(schedule, Schedule):
        raise TermError(
            f"{what} counts the working time of a site, so it needs that site's schedule; none was given"
        )
    if not isinstance(calendar, WorkingCalendar):
        raise TermError(
            f"{what} counts working days, so it needs the production calendar (KZ or KG); none was given"
        )
    return schedule, calendar


def _intervals(
    first_day: dt.date, schedule: Schedule, calendar: WorkingCalendar
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The site's opening intervals from `first_day` on, as UTC instants, for ever (stops on a dead schedule)."""
    day = first_day
    closed_run = 0
    while True:
        intervals = schedule.opening_intervals(day, calendar)
        closed_run = 0 if intervals else closed_run + 1
        if closed_run > SEARCH_LIMIT_DAYS:
            raise ScheduleError(
                f"site schedule {schedule.name!r} is closed for more than {SEARCH_LIMIT_DAYS} days from {first_day}"
            )
        for start, end in intervals:
            yield start.astimezone(UTC), end.astimezone(UTC)
        day += dt.timedelta(days=1)


def add_working_time(
    start: dt.datetime, minutes: int, schedule: Schedule, calendar: WorkingCalendar
) -> dt.datetime:
    """The first moment by which `minutes` of the site's working time have passed since `start`.

    A start outside working time (night, break, weekend, holiday) begins at the next opening; 0 minutes gives
    that opening (or `start` itself inside working time). A term that runs out exactly at a closing ends there
    (13:00, not 14:30)."""
    require_aware(start, "the start")
    minutes = _count(minutes, "the number of minutes", 0)
    schedule, calendar = _need_site(schedule, calendar, f"{minutes} minutes of working time")
    tz = schedule.tz
    cursor = start.astimezone(UTC)
    remaining = dt.timedelta(minutes=minutes)
    for opens, closes in _intervals(local_date(cursor, tz), schedule, calendar):
        if closes <= cursor:
            continue
        begin = max(opens, cursor)
        available = closes - begin
        if remaining <= available:
            return (begin + remaining).astimezone(tz)
        remaining -= available
    raise AssertionError("unreachable: _intervals never ends")  # pragma: no cover


def last_working_day(
    start: dt.datetime, n: int, schedule: Schedule, calendar: WorkingCalendar, *, acceptance_day_counted: bool
) -> dt.date:
    """The date of the n-th working day of the site. The acceptance day counts only when `acceptance_day_counted`,
    it is a working day at the site and `start` is before the site closes that day (an application accepted
    after closing, e.g. on the portal at night, is worked on from the next working day)."""
    require_aware(start, "the day of acceptance")
    n = _count(n, "a working-day term", 1)
    schedule, calendar = _need_site(schedule, calendar, f"a term of {n} working days")
    day = local_date(start, schedule.tz)
    counted = 0
    if acceptance_day_counted:
        closing = schedule.closing_time(day, calendar)
        if closing is not None and start.astimezone(UTC) < closing.astimezone(UTC):
            counted = 1
    while counted < n:
        day = calendar.next_working_day(day, schedule)
        counted += 1
    return day


def add_working_days(
    start: dt.datetime, n: int, schedule: Schedule, calendar: WorkingCalendar, *, acceptance_day_counted: bool
) -> dt.datetime:
    """The due moment of an n-working-day term: the end of the site's working day on its n-th working day.
    With `acceptance_day_counted=False` ("day of acceptance not counted") counting starts on the next working day."""
    if acceptance_day_counted not in (True, False):
        raise TermError("say whether the day of acceptance is counted (acceptance_day_counted=True or False)")
    day = last_working_day(start, n, schedule, calendar, acceptance_day_counted=acceptance_day_counted)
    closing = schedule.closing_time(day, calendar)
    assert closing is not None  # last_working_day only returns days the site is open
    return closing


def months_later(day: dt.date, n: int) -> dt.date:
    """The same day-of-month n months later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    months = day.month - 1 + n
    year, month = day.year + months // 12, months % 12 + 1
    return dt.date(year, month, min(day.day, monthrange(year, month)[1]))


def _last_calendar_day(start: dt.datetime, n: int, unit: str, tz: ZoneInfo, counted: bool) -> dt.date:
    require_aware(start, "the start")
    n = _count(n, f"a term in {unit.replace('_', ' ')}", 1)
    # "Day of acceptance counted" makes the acceptance day the first day of the term: count from the day before.
    anchor = local_date(start, tz) - dt.timedelta(days=1 if counted else 0)
    if unit == "months":
        return months_later(anchor, n)
    return anchor + dt.timedelta(days=n * (7 if unit == "weeks" else 1))


def add_calendar_days(
    start: dt.datetime, n: int, *, tz: str | ZoneInfo = DEFAULT_TIMEZONE, acceptance_day_counted: bool = False
) -> dt.datetime:
    """The end (last microsecond, local to `tz`) of the n-th calendar day after the day of `start`; holidays and
    weekends count (S002: 15/30/45 days, extension 30, notice 3). Days are cut in `tz`, the site's zone, never in
    the start's own offset: moments read from the database arrive in UTC."""
    z = _zone(tz)
    return end_of_day(_last_calendar_day(start, n, "calendar_days", z, acceptance_day_counted), z)


def add_weeks(
    start: dt.datetime, n: int, *, tz: str | ZoneInfo = DEFAULT_TIMEZONE, acceptance_day_counted: bool = False
) -> dt.datetime:
    """The end of the day n weeks after the day of `start` (divorce: notice within 1 week, S002/App.9 p.5(4))."""
    z = _zone(tz)
    return end_of_day(_last_calendar_day(start, n, "weeks", z, acceptance_day_counted), z)


def add_months(
    start: dt.datetime, n: int, *, tz: str | ZoneInfo = DEFAULT_TIMEZONE, acceptance_day_counted: bool = False
) -> dt.datetime:
    """The end of the same-numbered day n months after the day of `start`, clamped to the month's end."""
    z = _zone(tz)
    return end_of_day(_last_calendar_day(start, n, "months", z, acceptance_day_counted), z)


def _term_zone(term: Term, schedule: Schedule | None, calendar: WorkingCalendar | None) -> ZoneInfo:
    if isinstance(schedule, Schedule):
        return schedule.tz
    if isinstance(calendar, WorkingCalendar):
        return calendar.timezone
    raise TermError(
        f"the term {term} ends at the end of a day, but neither a site schedule nor a calendar tells in which "
        "time zone that day ends"
    )


def _counted(term: Term, default: bool | None) -> bool:
    flag = term.acceptance_day_counted if term.acceptance_day_counted is not None else default
    if flag is None:
        if term.unit == "working_days":
            raise TermError(
                f"the term {term} does not say whether the day of acceptance is counted; set "
                "acceptance_day_counted on the term (or pass the configured default)"
            )
        return False  # a term in days, weeks or months starts on the day after the event
    return flag


def _time_term_end(
    start: dt.datetime,
    term: Term,
    schedule: Schedule | None,
    calendar: WorkingCalendar | None,
    clock_hours: bool,
) -> dt.datetime:
    minutes = term.value * MINUTES_PER[term.unit]
    if clock_hours and term.unit != "working_hours":
        tz = schedule.tz if isinstance(schedule, Schedule) else start.tzinfo
        return (start.astimezone(UTC) + dt.timedelta(minutes=minutes)).astimezone(tz)
    site, cal = _need_site(schedule, calendar, f"the term {term}")
    return add_working_time(start, minutes, site, cal)


def _last_day(
    start: dt.datetime,
    term: Term,
    schedule: Schedule | None,
    calendar: WorkingCalendar | None,
    counted: bool,
) -> tuple[dt.date, ZoneInfo]:
    if term.unit == "working_days":
        site, cal = _need_site(schedule, calendar, f"the term {term}")
        return last_working_day(start, term.value, site, cal, acceptance_day_counted=counted), site.tz
    tz = _term_zone(term, schedule, calendar)
    return _last_calendar_day(start, term.value, term.unit, tz, counted), tz


def earliest_allowed(
    start: dt.datetime,
    min_wait: Term,
    *,
    site_schedule: Schedule | None = None,
    calendar: WorkingCalendar | None = None,
    default_acceptance_day_counted: bool | None = None,
    clock_hours: bool = False,
) -> dt.datetime:
    """The first moment an act with a minimum wait may be done ("not before one month after the application":
    marriage S002/App.2, mutual-consent divorce S002/App.9 p.5(5)).

    A wait in days, weeks or months is over when its last day is over: filed on 10 January, one month runs to the
    end of 10 February, so the act may be done from 11 February 00:00 — the strict reading, never too early. With
    a site schedule and calendar the result moves to the site's next opening (the first moment the site can act)."""
    require_aware(start, "the date of the application")
    if not isinstance(min_wait, Term):
        raise TermError(f"a minimum wait is a Term, got {type(min_wait).__name__}")
    if min_wait.kind != "min_wait":
        raise TermError(f"the term {min_wait} is a {min_wait.kind} term, not a minimum wait")
    if min_wait.unit in MINUTES_PER:
        legal = _time_term_end(start, min_wait, site_schedule, calendar, clock_hours)
    else:
        counted = _counted(min_wait, default_acceptance_day_counted)
        last, tz = _last_day(start, min_wait, site_schedule, calendar, counted)
        legal = start_of_day(last + dt.timedelta(days=1), tz)
    if isinstance(site_schedule, Schedule) and isinstance(calendar, WorkingCalendar):
        return add_working_time(legal, 0, site_schedule, calendar)
    return legal


def due(
    start: dt.datetime,
    term: Term,
    site_schedule: Schedule | None,
    calendar: WorkingCalendar | None,
    *,
    default_acceptance_day_counted: bool | None = None,
    clock_hours: bool = False,
) -> dt.datetime:
    """The moment `term` runs out, counted from `start` at the site with `site_schedule` under `calendar`.

    For "max" and "notice" terms it is the last moment allowed; for "min_wait" the first moment allowed (see
    `earliest_allowed`). Working units need the schedule and calendar; calendar units need neither but take their
    day boundaries from the schedule's zone, else the calendar country's. A working-day term must say whether the
    acceptance day counts, here or through `default_acceptance_day_counted`; anything missing is a TermError."""
    require_aware(start, "the start of the term")
    if not isinstance(term, Term):
        raise TermError(f"a term is a Term, got {type(term).__name__}")
    if term.kind == "min_wait":
        return earliest_allowed(
            start,
            term,
            site_schedule=site_schedule,
            calendar=calendar,
            default_acceptance_day_counted=default_acceptance_day_counted,
            clock_hours=clock_hours,
        )
    if term.unit in MINUTES_PER:
        return _time_term_end(start, term, site_schedule, calendar, clock_hours)
    if term.unit in ("working_days", "calendar_days", "weeks", "months"):
        last, tz = _last_day(
            start, term, site_schedule, calendar, _counted(term, default_acceptance_day_counted)
        )
        if term.unit == "working_days":
            # both checked by _last_day
            assert isinstance(site_schedule, Schedule)
            assert calendar is not None
            closing = site_schedule.closing_time(last, calendar)
            assert closing is not None
            return closing
        return end_of_day(last, tz)
    raise TermError(f"the term {term.value} {term.unit} ({term.source}) has a unit this engine does not know")


def time_left(now: dt.datetime, due_at: dt.datetime) -> dt.timedelta:
    """Clock time from `now` to `due_at`; negative when overdue."""
    require_aware(now, "now")
    require_aware(due_at, "the due moment")
    return due_at.astimezone(UTC) - now.astimezone(UTC)


def working_time_between(
    earlier: dt.datetime, later: dt.datetime, schedule: Schedule, calendar: WorkingCalendar
) -> dt.timedelta:
    """The site's working time inside [earlier, later) (zero when `later` is not after `earlier`)."""
    require_aware(earlier, "the first moment")
    require_aware(later, "the second moment")
    schedule, calendar = _need_site(schedule, calendar, "working time")
    a, b = earlier.astimezone(UTC), later.astimezone(UTC)
    total = dt.timedelta(0)
    if b <= a:
        return total
    tz = schedule.tz
    day, last = local_date(a, tz), local_date(b, tz)
    while day <= last:
        for opens, closes in schedule.opening_intervals(day, calendar):
            lo, hi = max(opens.astimezone(UTC), a), min(closes.astimezone(UTC), b)
            if hi > lo:
                total += hi - lo
        day += dt.timedelta(days=1)
    return total


def working_time_left(
    now: dt.datetime, due_at: dt.datetime, schedule: Schedule, calendar: WorkingCalendar
) -> dt.timedelta:
    """The site's working time from `now` to `due_at`; negative (working time since the due moment) when overdue."""
    require_aware(now, "now")
    require_aware(due_at, "the due moment")
    if now.astimezone(UTC) <= due_at.astimezone(UTC):
        return working_time_between(now, due_at, schedule, calendar)
    return -working_time_between(due_at, now, schedule, calendar)
