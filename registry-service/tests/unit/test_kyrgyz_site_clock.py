"""Deadlines of a Kyrgyz case: the Kyrgyz calendar, the Sokuluk office's hours, Bishkek time (ADR 0039)."""

from __future__ import annotations

import datetime as dt

from civreg import countries
from registry.domain import site_clock

BISHKEK = countries.timezone_of("KG")
ONE_WORKING_DAY = {"value": 1, "unit": "working_days", "source": "configuration to check"}


def test_a_kyrgyz_term_skips_independence_day_and_ends_in_bishkek_time() -> None:
    clock = site_clock.build({}, {})
    # Friday 28 August 2026, 10:00 in Bishkek; Monday 31 August is Independence Day in Kyrgyzstan (not in
    # Kazakhstan): the one working day runs to the end of Tuesday's office day, 18:00 Bishkek time.
    start = dt.datetime(2026, 8, 28, 10, 0, tzinfo=BISHKEK)
    due = clock.due(start, ONE_WORKING_DAY, "kg-sokuluk")
    assert due == dt.datetime(2026, 9, 1, 18, 0, tzinfo=BISHKEK)
    assert due.utcoffset() == dt.timedelta(hours=6)
    # The same start at a Kazakh office: Monday is worked, ending 17:30 Almaty time (UTC+5).
    kz_due = clock.due(start, ONE_WORKING_DAY, "almaty-almaly")
    assert kz_due == dt.datetime(2026, 8, 31, 17, 30, tzinfo=countries.timezone_of("KZ"))


def test_a_kyrgyz_decree_moves_a_kyrgyz_deadline_only() -> None:
    # A (hypothetical) Kyrgyz transfer decree makes Tuesday 1 September 2026 a day off.
    decree = (dt.date(2026, 9, 1), "day_off", "transfer (test)", "Government of the KR decree (test data)")
    clock = site_clock.build({"KG": [decree]}, {})
    start = dt.datetime(2026, 8, 28, 10, 0, tzinfo=BISHKEK)
    assert clock.due(start, ONE_WORKING_DAY, "kg-sokuluk") == dt.datetime(2026, 9, 2, 18, 0, tzinfo=BISHKEK)
    assert clock.calendar_of("kg-sokuluk").country == "KG"
    assert clock.calendar_of("kg-sokuluk-belek").country == "KG"
