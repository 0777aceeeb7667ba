"""Review terms of the birth service and the weekday calendar they are counted on (S002/App.1 p.5(3), p.9)."""

import datetime as dt

import pytest

from btkernel import catalogue
from btkernel.calendar import ALMATY, WeekdayCalendar
from btkernel.terms import due_at, review_term

BIRTH = catalogue.load().get("birth_registration", on=dt.date(2026, 11, 23))
assert BIRTH is not None


@pytest.mark.parametrize(
    ("born", "filed", "expected_days"),
    [
        (dt.date(2026, 11, 20), dt.date(2026, 11, 23), 1),  # Fri → Mon: 1 working day after birth
        (dt.date(2026, 11, 18), dt.date(2026, 11, 23), 1),  # Wed → Mon: 3 working days: still on time
        (dt.date(2026, 11, 17), dt.date(2026, 11, 23), 7),  # Tue → Mon: 4 working days: late
        (dt.date(2025, 1, 1), dt.date(2026, 11, 23), 7),
    ],
)
def test_birth_review_term_depends_on_lateness(born: dt.date, filed: dt.date, expected_days: int) -> None:
    rule = review_term(BIRTH, {"child": {"birth_date": born.isoformat()}}, filed)
    assert rule.value == expected_days and rule.unit == "working_days"


def test_due_moment_skips_the_weekend_and_not_the_acceptance_day() -> None:
    rule = BIRTH.term("on_time")
    friday_noon = dt.datetime(2026, 11, 20, 12, 0, tzinfo=ALMATY)
    assert due_at(rule, friday_noon) == dt.datetime(2026, 11, 23, 17, 30, tzinfo=ALMATY)
    late = BIRTH.term("late")
    assert due_at(late, friday_noon) == dt.datetime(2026, 12, 1, 17, 30, tzinfo=ALMATY)


def test_working_days_between_and_adding_agree() -> None:
    cal = WeekdayCalendar()
    start = dt.date(2026, 11, 18)
    for n in range(1, 15):
        end = cal.add_working_days(start, n)
        assert cal.working_days_between(start, end) == n
        assert cal.is_working_day(end)
