"""Which legal term applies to a case, from the catalogue and the case attributes (S002 per service)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.catalogue import StateService, TermRule
from btkernel.workcal import WorkingCalendar


def review_term(
    service: StateService, details: dict[str, Any], filed_on: dt.date, calendar: WorkingCalendar
) -> TermRule:
    """Birth: 1 WD, or 7 WD when filed more than 3 working days after the birth (S002/App.1 p.5(3), p.9)."""
    if service.late_after_working_days is not None:
        born = details.get("child", {}).get("birth_date")
        if born is not None:
            born_on = born if isinstance(born, dt.date) else dt.date.fromisoformat(str(born))
            if calendar.working_days_between(born_on, filed_on) > service.late_after_working_days:
                return service.term("late")
    return service.term("on_time")
