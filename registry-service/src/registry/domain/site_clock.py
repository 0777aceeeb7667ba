"""Computing due moments for a site from the working calendar: public holidays, the transfer decrees of the
registry's calendar, and the site's schedule with its per-day exceptions. Built from what the adapter read
(registry.adapters.calendar), which keeps it while the calendar's version stands: a change is effective at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from civreg import sites
from workcal import Country, DayOverride, Schedule, Term, WorkingCalendar, due
from workcal.errors import TermError


@dataclass
class SiteClock:
    """What one transaction needs to compute terms: the calendars by country and the schedules by site."""

    calendars: dict[str, WorkingCalendar]
    exceptions: dict[str, list[dict[str, Any]]]
    # Each site's schedule, built once per clock (a clock serves many transactions: issue 13).
    _schedules: dict[str, tuple[Schedule, str]] = field(default_factory=dict, repr=False, compare=False)

    def schedule(self, site_id: str) -> tuple[Schedule, str]:
        built = self._schedules.get(site_id)
        if built is None:
            built = self._schedules[site_id] = self._build_schedule(site_id)
        return built

    def _build_schedule(self, site_id: str) -> tuple[Schedule, str]:
        reference = sites.load()
        site = reference.office(site_id) or reference.centre(site_id)
        if site is None:
            raise TermError(f"unknown site {site_id!r}: no schedule to count its working time in")
        exceptions = {e["day"]: e["hours"] for e in self.exceptions.get(site_id, [])}
        # In the site's own zone and hours (a Kyrgyz site: Asia/Bishkek, its schedule from sites.yaml; ADR 0039).
        return reference.schedule_of(site, exceptions), site.country

    def due(self, start: dt.datetime, term: dict[str, Any], site_id: str) -> dt.datetime:
        schedule, country = self.schedule(site_id)
        calendar = self.calendars.get(country)
        if calendar is None:
            raise TermError(f"no working calendar for country {country!r} of site {site_id!r}")
        # The 2018 regulations are silent on counting the acceptance day; the catalogue says it per term, and
        # where it does not, the day is not counted (services.md §9).
        return due(
            start,
            Term.model_validate({"kind": "max", **term}),
            schedule,
            calendar,
            default_acceptance_day_counted=False,
        )

    def calendar_of(self, site_id: str) -> WorkingCalendar:
        _, country = self.schedule(site_id)
        return self.calendars[country]

    def working_days(self, site_id: str, date_from: dt.date, date_to: dt.date) -> list[dict[str, Any]]:
        schedule, country = self.schedule(site_id)
        calendar = self.calendars[country]
        days = []
        day = date_from
        while day <= date_to:
            hours = schedule.opening_intervals(day, calendar)
            days.append(
                {
                    "day": day,
                    "kind": str(calendar.day_kind(day)),
                    "holiday": calendar.holiday_name(day),
                    "working": bool(hours),
                    "hours": [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in hours],
                }
            )
            day += dt.timedelta(days=1)
        return days


@lru_cache(maxsize=16)
def _calendar(country: Country, overrides: tuple[tuple[dt.date, str, str, str], ...]) -> WorkingCalendar:
    # Building a calendar computes the holidays package's years; decrees change rarely, so one calendar per set of
    # decrees serves every transaction until a supervisor changes them.
    return WorkingCalendar(
        country,
        [DayOverride.from_dict({"day": d, "kind": k, "reason": r, "source": s}) for d, k, r, s in overrides],
    )


Override = tuple[dt.date, str, str, str]  # day, kind, reason, source


def build(overrides: dict[str, list[Override]], exceptions: dict[str, list[dict[str, Any]]]) -> SiteClock:
    """The clock from the stored decrees (by country, in day order) and schedule exceptions (by site)."""
    countries: tuple[Country, ...] = ("KZ", "KG")
    calendars: dict[str, WorkingCalendar] = {c: _calendar(c, tuple(overrides.get(c, []))) for c in countries}
    return SiteClock(calendars=calendars, exceptions=exceptions)
