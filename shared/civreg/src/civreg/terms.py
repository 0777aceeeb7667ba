"""Which legal term applies to a case, from the catalogue and the case attributes (S002 per service), and when it
runs out on the working calendar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from civreg.calendar import ALMATY
from civreg.catalogue import StateService, TermRule
from civreg.events.details import BirthDetails, ServiceDetails, stated_variant
from workcal import REGISTRY_OFFICE, Schedule, Term, WorkingCalendar, due, months_later

VIA_SERVICE_CENTRE = "via_service_centre"
# Public holidays only: the registry's own calendar also knows the transfer decrees (registry.deadlines.terms).
KZ_CALENDAR = WorkingCalendar("KZ")


# The application's details: typed (ADR 0018), or as JSON where a caller still holds them so.
Details = ServiceDetails | Mapping[str, Any]


def variant_of(service: StateService, details: Details) -> str | None:
    """The case variant the application names (`details.variant`), if the service has it."""
    variant = stated_variant(details)
    return variant if variant in service.variants() else None


def review_term(
    service: StateService,
    details: Details,
    filed_on: dt.date,
    calendar: WorkingCalendar | None = None,
    channel: str | None = None,
) -> TermRule:
    """The review term selected by the case attributes: the application's variant (amendment, court decision,
    where the record was made …); birth: 1 WD, or 7 WD when filed more than 3 working days after the birth
    (S002/App.1 p.5(3), p.9); annulment through a service centre: 3 WD (S002/App.10 p.9)."""
    cal = calendar or KZ_CALENDAR
    variant = variant_of(service, details)
    if variant is not None and variant not in ("on_time", "late"):
        return service.term(variant)
    if channel == "state_corporation" and VIA_SERVICE_CENTRE in service.variants():
        return service.term(VIA_SERVICE_CENTRE)
    if service.late_after_working_days is None:
        return service.default_term()
    if isinstance(details, BirthDetails):
        born: Any = details.child.birth_date
    else:
        born = details.get("child", {}).get("birth_date") if isinstance(details, Mapping) else None
    if born is not None:
        born_on = born if isinstance(born, dt.date) else dt.date.fromisoformat(str(born))
        if cal.working_days_between(born_on, filed_on) > service.late_after_working_days:
            return service.term("late")
    return service.term("on_time")


def due_at(
    term: TermRule,
    start: dt.datetime,
    calendar: WorkingCalendar | None = None,
    schedule: Schedule = REGISTRY_OFFICE,
) -> dt.datetime:
    """The moment a term runs out: minutes and hours in the office's working time, working days to the end of the
    office day, calendar days and months to the end of the day (workcal). Where a regulation is silent on
    counting the day of acceptance, it is not counted (services.md §9)."""
    as_term = Term(
        value=term.value,
        unit=term.unit,
        acceptance_day_counted=term.acceptance_day_counted,
        source=term.source,
    )
    return due(start, as_term, schedule, calendar or KZ_CALENDAR, default_acceptance_day_counted=False)


def earliest_registration(service: StateService, details: Details, filed: dt.datetime) -> dt.date | None:
    """The first day the act may be registered, where a minimum delay applies (marriage S002/App.2 p.5(4);
    mutual-consent divorce without minors S002/App.9 p.5(5)): one month after the day of filing."""
    rule = service.earliest_registration
    if rule is None:
        return None
    variant = variant_of(service, details) or service.default_term().when
    if variant not in rule.variants:
        return None
    day = filed.astimezone(ALMATY).date()
    if rule.unit == "months":
        return months_later(day, rule.value)
    return day + dt.timedelta(days=rule.value)
