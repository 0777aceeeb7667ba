"""Review terms of the birth service and the weekday calendar they are counted on (S002/App.1 p.5(3), p.9)."""

import datetime as dt

import pytest

from civreg import catalogue
from civreg.terms import review_term
from workcal import WorkingCalendar

BIRTH = catalogue.load().get("birth_registration", on=dt.date(2026, 11, 23))
assert BIRTH is not None


@pytest.mark.parametrize(
    ("born", "filed", "expected_days"),
    [
        (dt.date(2026, 11, 20), dt.date(2026, 11, 23), 1),  # Fri → Mon: 1 working day after birth
        (dt.date(2026, 11, 18), dt.date(2026, 11, 23), 1),  # Wed → Mon: 3 working days: still on time
        (dt.date(2026, 11, 17), dt.date(2026, 11, 23), 7),  # Tue → Mon: 4 working days: late
        (dt.date(2025, 1, 1), dt.date(2026, 11, 23), 7),
        # Fri → Thu over Independence Day (16 Dec): 3 working days, on time — a weekday count would say late.
        (dt.date(2026, 12, 11), dt.date(2026, 12, 17), 1),
    ],
)
def test_birth_review_term_depends_on_lateness(born: dt.date, filed: dt.date, expected_days: int) -> None:
    rule = review_term(BIRTH, {"child": {"birth_date": born.isoformat()}}, filed, WorkingCalendar("KZ"))
    assert rule.value == expected_days
    assert rule.unit == "working_days"
