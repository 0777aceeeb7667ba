"""Everything the engine cannot compute is refused with an explicit error, never answered with a default."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from workcal import (
    REGISTRY_OFFICE,
    CalendarError,
    DayOverride,
    NaiveDatetimeError,
    Schedule,
    ScheduleError,
    Term,
    TermError,
    WorkcalError,
    WorkingCalendar,
    add_calendar_days,
    add_months,
    add_weeks,
    add_working_days,
    add_working_time,
    builtin_schedule,
    due,
    earliest_allowed,
    last_working_day,
    time_left,
    working_time_between,
    working_time_left,
    zone,
)

KZ = WorkingCalendar("KZ")
NAIVE = dt.datetime(2026, 11, 23, 10, 0)  # noqa: DTZ001 - the refusal of a naive instant is under test
AWARE = dt.datetime(2026, 11, 23, 10, 0, tzinfo=zone("Asia/Almaty"))
WD1 = Term(value=1, unit="working_days", source="S002/App.1 p.5(3)", acceptance_day_counted=False)
WAIT = Term(value=1, unit="months", source="S002/App.2", kind="min_wait")

NAIVE_CALLS: dict[str, Callable[[], Any]] = {
    "add_working_time": lambda: add_working_time(NAIVE, 20, REGISTRY_OFFICE, KZ),
    "add_working_days": lambda: add_working_days(NAIVE, 1, REGISTRY_OFFICE, KZ, acceptance_day_counted=False),
    "last_working_day": lambda: last_working_day(NAIVE, 1, REGISTRY_OFFICE, KZ, acceptance_day_counted=False),
    "add_calendar_days": lambda: add_calendar_days(NAIVE, 15),
    "add_weeks": lambda: add_weeks(NAIVE, 1),
    "add_months": lambda: add_months(NAIVE, 1),
    "earliest_allowed": lambda: earliest_allowed(NAIVE, WAIT, calendar=KZ),
    "due": lambda: due(NAIVE, WD1, REGISTRY_OFFICE, KZ),
    "time_left-now": lambda: time_left(NAIVE, AWARE),
    "time_left-due": lambda: time_left(AWARE, NAIVE),
    "working_time_left": lambda: working_time_left(NAIVE, AWARE, REGISTRY_OFFICE, KZ),
    "working_time_between": lambda: working_time_between(AWARE, NAIVE, REGISTRY_OFFICE, KZ),
}


@pytest.mark.parametrize("call", NAIVE_CALLS.values(), ids=NAIVE_CALLS.keys())
def test_naive_datetimes_are_refused(call: Callable[[], Any]) -> None:
    with pytest.raises(NaiveDatetimeError, match="no time zone"):
        call()


def test_a_date_is_not_a_moment() -> None:
    with pytest.raises(NaiveDatetimeError, match="with a time zone"):
        due(dt.date(2026, 11, 23), WD1, REGISTRY_OFFICE, KZ)  # type: ignore[arg-type]


def test_errors_are_value_errors() -> None:
    for cls in (TermError, NaiveDatetimeError, ScheduleError, CalendarError):
        assert issubclass(cls, WorkcalError)
        assert issubclass(cls, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value": 1, "unit": "fortnights"}, "unknown unit 'fortnights'"),
        ({"value": -1, "unit": "working_days"}, "cannot be negative"),
        ({"value": 0, "unit": "working_days"}, "is not a term"),
        ({"value": 0, "unit": "months"}, "is not a term"),
        ({"value": 1.5, "unit": "hours"}, "whole number"),
        ({"value": True, "unit": "hours"}, "whole number"),
        ({"value": 1, "unit": "hours", "source": ""}, "has no source"),
        ({"value": 1, "unit": "hours", "kind": "soft"}, "unknown kind 'soft'"),
        ({"value": 1, "unit": "working_days", "acceptance_day_counted": "yes"}, "acceptance_day_counted"),
    ],
)
def test_malformed_terms_are_refused(kwargs: dict[str, Any], message: str) -> None:
    kwargs.setdefault("source", "S002")
    value, unit = kwargs.pop("value"), kwargs.pop("unit")
    with pytest.raises(TermError, match=message):
        Term(value=value, unit=unit, **kwargs)


def test_catalogue_mappings_are_checked() -> None:
    with pytest.raises(TermError, match="unknown unit 'fortnights'"):
        Term.from_mapping({"value": 2, "unit": "fortnights", "source": "S002"})
    with pytest.raises(TermError, match="lacks its unit"):
        Term.from_mapping({"value": 2, "source": "S002"})
    with pytest.raises(TermError, match="unknown fields: colour"):
        Term.from_mapping({"value": 2, "unit": "hours", "source": "S002", "colour": "red"})
    rule = {
        "when": "late",
        "value": 7,
        "unit": "working_days",
        "acceptance_day_counted": False,
        "source": "S002/App.1",
    }
    assert Term.from_mapping(rule) == Term(
        value=7, unit="working_days", source="S002/App.1", acceptance_day_counted=False
    )
    step_max = Term.from_mapping({"value": 20, "unit": "minutes"}, source="S002/App.1 p.5(1)")
    assert step_max.source == "S002/App.1 p.5(1)"
    assert step_max.kind == "max"


def test_working_units_need_the_site_schedule_and_the_calendar() -> None:
    for term in (
        WD1,
        Term(value=2, unit="hours", source="S002/App.1 p.5(2)"),
        Term(value=3, unit="working_hours", source="S000"),
    ):
        with pytest.raises(TermError, match="needs that site's schedule"):
            due(AWARE, term, None, KZ)
        with pytest.raises(TermError, match="production calendar"):
            due(AWARE, term, REGISTRY_OFFICE, None)


def test_calendar_units_need_to_know_where_the_day_ends() -> None:
    with pytest.raises(TermError, match="time zone"):
        due(AWARE, Term(value=15, unit="calendar_days", source="S004 p.4"), None, None)
    # Either the site or the country tells it.
    assert due(
        AWARE, Term(value=15, unit="calendar_days", source="S004 p.4"), None, KZ
    ).utcoffset() == dt.timedelta(hours=5)
    kg_office = REGISTRY_OFFICE.with_timezone("Asia/Bishkek")
    assert due(
        AWARE, Term(value=15, unit="calendar_days", source="S004 p.4"), kg_office, None
    ).utcoffset() == dt.timedelta(hours=6)


def test_a_working_day_term_must_say_whether_the_acceptance_day_counts() -> None:
    silent = Term(value=7, unit="working_days", source="S002/App.5 (2018 group: silent)")
    with pytest.raises(TermError, match="day of acceptance is counted"):
        due(AWARE, silent, REGISTRY_OFFICE, KZ)
    with pytest.raises(TermError, match="day of acceptance is counted"):
        add_working_days(AWARE, 1, REGISTRY_OFFICE, KZ, acceptance_day_counted=None)  # type: ignore[arg-type]
    configured = due(AWARE, silent, REGISTRY_OFFICE, KZ, default_acceptance_day_counted=False)
    explicit = Term(value=7, unit="working_days", source="S002/App.5", acceptance_day_counted=False)
    assert configured == due(AWARE, explicit, REGISTRY_OFFICE, KZ)


def test_counts_below_the_minimum_are_refused() -> None:
    with pytest.raises(TermError, match="at least 1"):
        add_working_days(AWARE, 0, REGISTRY_OFFICE, KZ, acceptance_day_counted=False)
    with pytest.raises(TermError, match="at least 0"):
        add_working_time(AWARE, -5, REGISTRY_OFFICE, KZ)
    with pytest.raises(TermError, match="at least 1"):
        add_calendar_days(AWARE, 0)
    with pytest.raises(TermError, match="at least 1"):
        KZ.add_working_days(dt.date(2026, 11, 23), 0)


def test_earliest_allowed_wants_a_minimum_wait() -> None:
    with pytest.raises(TermError, match="not a minimum wait"):
        earliest_allowed(AWARE, Term(value=1, unit="months", source="S004 p.9"), calendar=KZ)


def test_unknown_country_and_bad_overrides() -> None:
    with pytest.raises(CalendarError, match="only KZ and KG"):
        WorkingCalendar("RU")  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="cite the decree"):
        DayOverride(dt.date(2026, 3, 28), "working", "transfer", "")
    with pytest.raises(CalendarError, match="cite the decree"):
        DayOverride(dt.date(2026, 3, 28), "working", "transfer", None)  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="say why"):
        DayOverride(dt.date(2026, 3, 28), "working", " ", "decree")
    with pytest.raises(CalendarError, match="not one of"):
        DayOverride(dt.date(2026, 3, 28), "holiday", "transfer", "decree")  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="for a date"):
        DayOverride(dt.datetime(2026, 3, 28, 9, tzinfo=dt.UTC), "working", "transfer", "decree")
    with pytest.raises(CalendarError, match="both working"):
        WorkingCalendar(
            "KZ",
            [
                DayOverride(dt.date(2026, 3, 28), "working", "transfer", "decree A"),
                DayOverride(dt.date(2026, 3, 28), "day_off", "transfer", "decree B"),
            ],
        )
    with pytest.raises(CalendarError, match="lacks: source"):
        DayOverride.from_dict({"day": "2026-03-28", "kind": "working", "reason": "transfer"})
    with pytest.raises(CalendarError, match="not a date"):
        DayOverride.from_dict(
            {"day": "28.03.2026", "kind": "working", "reason": "transfer", "source": "decree"}
        )


def test_the_calendar_refuses_moments_where_it_wants_dates() -> None:
    with pytest.raises(CalendarError, match="local date"):
        KZ.is_working_day(AWARE)


def _office(**changes: Any) -> dict[str, Any]:
    return {**REGISTRY_OFFICE.to_dict(), **changes}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _office(weekly={"monday": [["09:00", "13:00"]], "funday": [["09:00", "13:00"]]}),
            "'funday' is not a weekday",
        ),
        (_office(weekly={"mon": [["13:00", "09:00"]]}), "ends before it starts"),
        (_office(weekly={"mon": [["09:00", "14:00"], ["13:00", "17:30"]]}), "in order with a break"),
        (_office(weekly={"mon": [["09:00", "13:00"], ["13:00", "17:30"]]}), "merge touching"),
        (_office(weekly={"mon": [["9h", "13:00"]]}), "not a time of day"),
        (_office(weekly={"mon": [["25:00", "26:00"]]}), "not a time of day"),
        (_office(weekly={}), "no working hours on any weekday"),
        (_office(timezone="Asia/Atlantis"), "unknown time zone"),
        (_office(timezone="../../etc/passwd"), "unknown time zone"),
        (_office(hours="09-18"), "unknown fields: hours"),
        (_office(decree_day_hours="sat"), "no hours that day"),
        (_office(exceptions={"31.12.2026": []}), "is not a date"),
        ({"weekly": {"mon": "09:00-17:00"}}, "needs at least a name"),
    ],
)
def test_malformed_schedules_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        Schedule.from_dict(data)


def test_unknown_builtin_schedule() -> None:
    with pytest.raises(ScheduleError, match="known: registry_office, service_centre"):
        builtin_schedule("post_office")


def test_a_site_that_never_opens_is_reported_not_looped_on() -> None:
    start = dt.date(2026, 11, 23)
    closed: dict[dt.date, list[str]] = {start + dt.timedelta(days=i): [] for i in range(500)}
    dead = Schedule.from_dict(_office(name="closed_for_repairs", exceptions=closed))
    with pytest.raises(ScheduleError, match="closed_for_repairs"):
        add_working_time(AWARE, 20, dead, KZ)
    with pytest.raises(ScheduleError, match="closed_for_repairs"):
        add_working_days(AWARE, 1, dead, KZ, acceptance_day_counted=False)


def test_model_validate_raises_term_errors_too() -> None:
    with pytest.raises(TermError, match="cannot be negative"):
        Term.model_validate({"value": -3, "unit": "hours", "source": "S002"})
    with pytest.raises(TermError, match="a term is a mapping"):
        Term.model_validate(["7", "working_days"])
    with pytest.raises(TermError, match="unknown unit 'days'"):
        Term.model_validate_json('{"value": 3, "unit": "days", "source": "S002"}')
    stored = {"value": 7, "unit": "working_days", "acceptance_day_counted": False, "source": "S002/App.6 p.5"}
    term = Term.model_validate({"kind": "max", **stored})  # how a stored term (jsonb) comes back
    assert term.model_dump() == {"kind": "max", **stored}
    with pytest.raises(ValueError, match="frozen"):
        term.value = 8  # type: ignore[misc]
