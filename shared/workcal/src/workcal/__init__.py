"""Working-calendar engine: KZ/KG production calendars, site schedules and legal-term deadline arithmetic (pure)."""

from workcal.calendar import Country, DayKind, DayOverride, WorkingCalendar
from workcal.durations import (
    add_calendar_days,
    add_months,
    add_weeks,
    add_working_days,
    add_working_time,
    due,
    earliest_allowed,
    last_working_day,
    months_later,
    time_left,
    working_time_between,
    working_time_left,
)
from workcal.errors import CalendarError, NaiveDatetimeError, ScheduleError, TermError, WorkcalError
from workcal.schedule import (
    BUILTIN_SCHEDULES,
    REGISTRY_OFFICE,
    SERVICE_CENTRE,
    Schedule,
    builtin_schedule,
)
from workcal.term import Term, TermKind, Unit
from workcal.zones import COUNTRY_TIMEZONES, DEFAULT_TIMEZONE, zone

__all__ = [
    "BUILTIN_SCHEDULES",
    "COUNTRY_TIMEZONES",
    "DEFAULT_TIMEZONE",
    "REGISTRY_OFFICE",
    "SERVICE_CENTRE",
    "CalendarError",
    "Country",
    "DayKind",
    "DayOverride",
    "NaiveDatetimeError",
    "Schedule",
    "ScheduleError",
    "Term",
    "TermError",
    "TermKind",
    "Unit",
    "WorkcalError",
    "WorkingCalendar",
    "add_calendar_days",
    "add_months",
    "add_weeks",
    "add_working_days",
    "add_working_time",
    "builtin_schedule",
    "due",
    "earliest_allowed",
    "last_working_day",
    "months_later",
    "time_left",
    "working_time_between",
    "working_time_left",
    "zone",
]
