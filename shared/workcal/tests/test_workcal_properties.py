"""Properties of the deadline arithmetic that must hold for any start, term length, site and country."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from workcal import (
    REGISTRY_OFFICE,
    SERVICE_CENTRE,
    Schedule,
    Term,
    WorkingCalendar,
    add_calendar_days,
    add_working_days,
    add_working_time,
    due,
    earliest_allowed,
    months_later,
    working_time_between,
    working_time_left,
    zone,
)

ALMATY = zone("Asia/Almaty")
CALENDARS = {"KZ": WorkingCalendar("KZ"), "KG": WorkingCalendar("KG")}
SITES = {
    ("KZ", "office"): REGISTRY_OFFICE,
    ("KZ", "centre"): SERVICE_CENTRE,
    ("KG", "office"): REGISTRY_OFFICE.with_timezone("Asia/Bishkek"),
    ("KG", "centre"): SERVICE_CENTRE.with_timezone("Asia/Bishkek"),
}

# 2023–2027 covers decrees, the 2024 zone change, KG's 2025 Labour Code and package estimates.
# hypothesis takes naive bounds and puts each drawn instant in one of the zones.
starts = st.datetimes(
    min_value=dt.datetime(2023, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([ALMATY, zone("Asia/Bishkek"), dt.UTC]),
)
sites = st.sampled_from(sorted(SITES))
PROPS = settings(max_examples=150, deadline=None)


def _site(key: tuple[str, str]) -> tuple[Schedule, WorkingCalendar]:
    return SITES[key], CALENDARS[key[0]]


@PROPS
@given(start=starts, k=st.integers(1, 15), m=st.integers(1, 15), site=sites, counted=st.booleans())
def test_adding_k_then_m_working_days_is_adding_k_plus_m(
    start: dt.datetime, k: int, m: int, site: tuple[str, str], counted: bool
) -> None:
    schedule, cal = _site(site)
    first = add_working_days(start, k, schedule, cal, acceptance_day_counted=counted)
    # The first due is a closing moment, so the second count starts the next working day either way.
    assert add_working_days(first, m, schedule, cal, acceptance_day_counted=False) == add_working_days(
        start, k + m, schedule, cal, acceptance_day_counted=counted
    )


@PROPS
@given(start=starts, n=st.integers(1, 20), site=sites, counted=st.booleans())
def test_working_day_due_is_the_closing_of_a_site_working_day(
    start: dt.datetime, n: int, site: tuple[str, str], counted: bool
) -> None:
    schedule, cal = _site(site)
    got = due(
        start,
        Term(value=n, unit="working_days", source="prop", acceptance_day_counted=counted),
        schedule,
        cal,
    )
    local = got.astimezone(schedule.tz)
    assert cal.is_working_day(local.date(), schedule)
    hours = schedule.hours_on(local.date(), cal)
    assert local.timetz().replace(tzinfo=None) == hours[-1][1]  # the end of the last interval that day
    assert got > start
    # The last minute before the due moment is working time; the due moment opens no further work that day.
    assert working_time_between(got - dt.timedelta(minutes=1), got, schedule, cal) == dt.timedelta(minutes=1)
    assert add_working_time(got, 0, schedule, cal).date() > local.date()


@PROPS
@given(start=starts, a=st.integers(0, 3000), b=st.integers(0, 3000), site=sites)
def test_working_time_is_monotonic_and_composes(
    start: dt.datetime, a: int, b: int, site: tuple[str, str]
) -> None:
    schedule, cal = _site(site)
    low, high = sorted((a, b))
    t_low = add_working_time(start, low, schedule, cal)
    t_high = add_working_time(start, high, schedule, cal)
    assert t_low <= t_high
    if high > low:
        assert t_low < t_high
        # Only for a positive rest: 0 minutes from a closing moment is the next opening, by definition.
        assert add_working_time(t_low, high - low, schedule, cal) == t_high


@PROPS
@given(start=starts, m=st.integers(0, 3000), site=sites)
def test_working_time_added_is_the_working_time_between(
    start: dt.datetime, m: int, site: tuple[str, str]
) -> None:
    schedule, cal = _site(site)
    end = add_working_time(start, m, schedule, cal)
    assert working_time_between(start, end, schedule, cal) == dt.timedelta(minutes=m)
    assert working_time_left(start, end, schedule, cal) == dt.timedelta(minutes=m)
    assert working_time_left(end, start, schedule, cal) == -dt.timedelta(minutes=m)


@PROPS
@given(start=starts, n=st.integers(1, 400))
def test_calendar_days_end_at_the_last_microsecond_of_the_nth_day(start: dt.datetime, n: int) -> None:
    got = add_calendar_days(start, n, tz=ALMATY)
    local_start = start.astimezone(ALMATY).date()
    assert got.date() - local_start == dt.timedelta(days=n)
    nxt = got + dt.timedelta(microseconds=1)
    assert nxt.astimezone(ALMATY).date() == got.date() + dt.timedelta(days=1)
    assert nxt.astimezone(ALMATY).time() == dt.time(0)


@PROPS
@given(day=st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)), n=st.integers(-36, 120))
def test_months_later_clamps_to_the_month_end(day: dt.date, n: int) -> None:
    got = months_later(day, n)
    assert (got.year * 12 + got.month) - (day.year * 12 + day.month) == n
    assert got.day <= day.day
    if got.day < day.day:  # clamped: it is the last day of its month
        assert (got + dt.timedelta(days=1)).day == 1


@PROPS
@given(start=starts, n=st.integers(1, 24), unit=st.sampled_from(["calendar_days", "weeks", "months"]))
def test_a_wait_is_over_the_microsecond_after_the_same_max_term(
    start: dt.datetime, n: int, unit: str
) -> None:
    cal = CALENDARS["KZ"]
    maximum = Term(value=n, unit=unit, source="prop")
    wait = Term(value=n, unit=unit, source="prop", kind="min_wait")
    assert earliest_allowed(start, wait, calendar=cal) == due(start, maximum, None, cal) + dt.timedelta(
        microseconds=1
    )


@PROPS
@given(start=starts, n=st.integers(1, 20), site=sites)
def test_counting_the_acceptance_day_never_makes_a_term_longer(
    start: dt.datetime, n: int, site: tuple[str, str]
) -> None:
    schedule, cal = _site(site)
    counted = add_working_days(start, n, schedule, cal, acceptance_day_counted=True)
    not_counted = add_working_days(start, n, schedule, cal, acceptance_day_counted=False)
    assert counted <= not_counted
    if counted < not_counted:  # exactly one site working day apart
        assert cal.working_days_between(counted.date(), not_counted.date(), schedule) == 1


@PROPS
@given(site=sites)
def test_schedules_survive_a_round_trip_through_their_stored_form(site: tuple[str, str]) -> None:
    schedule, _ = _site(site)
    assert Schedule.from_dict(schedule.to_dict()) == schedule
