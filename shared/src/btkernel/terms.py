"""Which legal term applies to a case, from the catalogue and the case attributes (S002 per service)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.calendar import WeekdayCalendar, end_of_office_day
from btkernel.catalogue import StateService, TermRule


def review_term(
    service: StateService, details: dict[str, Any], filed_on: dt.date, calendar: WeekdayCalendar | None = None
) -> TermRule:
    """Birth: 1 WD, or 7 WD when filed more than 3 working days after the birth (S002/App.1 p.5(3), p.9)."""
    cal = calendar or WeekdayCalendar()
    if service.late_after_working_days is not None:
        born = details.get("child", {}).get("birth_date")
        if born is not None:
            born_on = born if isinstance(born, dt.date) else dt.date.fromisoformat(str(born))
            if cal.working_days_between(born_on, filed_on) > service.late_after_working_days:
                return service.term("late")
    return service.term("on_time")


def due_at(term: TermRule, start: dt.datetime, calendar: WeekdayCalendar | None = None) -> dt.datetime:
    """The moment a working-day term runs out: the end of the office day of its last day."""
    cal = calendar or WeekdayCalendar()
    if term.unit != "working_days":
        raise ValueError(f"term unit {term.unit} is not computed yet")  # the calendar issue adds the rest
    from btkernel.calendar import ALMATY

    local = start.astimezone(ALMATY).date()
    return end_of_office_day(
        cal.add_working_days(local, term.value, start_counted=term.acceptance_day_counted)
    )
