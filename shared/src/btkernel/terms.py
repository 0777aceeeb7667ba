"""Which legal term applies to a case, from the catalogue and the case attributes (S002 per service)."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from btkernel.calendar import WeekdayCalendar, end_of_office_day
from btkernel.catalogue import StateService, TermRule

VIA_SERVICE_CENTRE = "via_service_centre"


def variant_of(service: StateService, details: dict[str, Any]) -> str | None:
    """The case variant the application names (`details.variant`), if the service has it."""
    variant = details.get("variant")
    return variant if isinstance(variant, str) and variant in service.variants() else None


def review_term(
    service: StateService,
    details: dict[str, Any],
    filed_on: dt.date,
    work_calendar: WeekdayCalendar | None = None,
    channel: str | None = None,
) -> TermRule:
    """The review term selected by the case attributes: the application's variant (amendment, court decision,
    where the record was made …); birth: 1 WD, or 7 WD when filed more than 3 working days after the birth
    (S002/App.1 p.5(3), p.9); annulment through a service centre: 3 WD (S002/App.10 p.9)."""
    cal = work_calendar or WeekdayCalendar()
    variant = variant_of(service, details)
    if variant is not None and variant not in ("on_time", "late"):
        return service.term(variant)
    if channel == "state_corporation" and VIA_SERVICE_CENTRE in service.variants():
        return service.term(VIA_SERVICE_CENTRE)
    if service.late_after_working_days is None:
        return service.default_term()
    if service.late_after_working_days is not None:
        born = details.get("child", {}).get("birth_date")
        if born is not None:
            born_on = born if isinstance(born, dt.date) else dt.date.fromisoformat(str(born))
            if cal.working_days_between(born_on, filed_on) > service.late_after_working_days:
                return service.term("late")
    return service.term("on_time")


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has no such day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_at(term: TermRule, start: dt.datetime, work_calendar: WeekdayCalendar | None = None) -> dt.datetime:
    """The moment a term runs out. Working and calendar days and months: the end of the office day of the last
    day; hours: plain clock hours from the start. Working time, holidays and site schedules are the deadline
    engine's work (issue 4), which will replace this behind the same call."""
    cal = work_calendar or WeekdayCalendar()
    from btkernel.calendar import ALMATY

    local = start.astimezone(ALMATY).date()
    if term.unit == "working_days":
        return end_of_office_day(
            cal.add_working_days(local, term.value, start_counted=term.acceptance_day_counted)
        )
    if term.unit == "calendar_days":
        offset = term.value - 1 if term.acceptance_day_counted else term.value
        return end_of_office_day(local + dt.timedelta(days=offset))
    if term.unit == "months":
        return end_of_office_day(add_months(local, term.value))
    if term.unit in ("hours", "working_hours"):
        return start + dt.timedelta(hours=term.value)
    if term.unit == "minutes":
        return start + dt.timedelta(minutes=term.value)
    raise ValueError(f"term unit {term.unit} is not computed yet")


def earliest_registration(
    service: StateService, details: dict[str, Any], filed: dt.datetime
) -> dt.date | None:
    """The first day the act may be registered, where a minimum delay applies (marriage S002/App.2 p.5(4);
    mutual-consent divorce without minors S002/App.9 p.5(5)): one month after the day of filing."""
    rule = service.earliest_registration
    if rule is None:
        return None
    variant = variant_of(service, details) or service.default_term().when
    if variant not in rule.variants:
        return None
    from btkernel.calendar import ALMATY

    day = filed.astimezone(ALMATY).date()
    if rule.unit == "months":
        return add_months(day, rule.value)
    return day + dt.timedelta(days=rule.value)
