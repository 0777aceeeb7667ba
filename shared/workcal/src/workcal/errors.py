"""The errors of the working-calendar engine: all ValueErrors, each with a message a registrar can act on."""

from __future__ import annotations


class WorkcalError(ValueError):
    """Base of every working-calendar error."""


class CalendarError(WorkcalError):
    """The production calendar cannot be built or asked (unknown country, conflicting decrees)."""


class ScheduleError(WorkcalError):
    """A site schedule is malformed, or a site has no working hours where some are needed."""


class TermError(WorkcalError):
    """A legal term cannot be computed: unknown unit, negative value, missing schedule or flag."""


class NaiveDatetimeError(TermError):
    """A moment without a time zone: deadlines are only computed on time-zone-aware moments."""
