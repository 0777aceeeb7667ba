"""The countries the platform serves and what each brings (ADR 0039): its zone, its working calendar (public
holidays; the transfer decrees are the registry's, `registry.domain.site_clock`) and its personal numbers
(`civreg.identifiers`). A site belongs to one country (sites.yaml); a service edition to one (catalogue.yaml)."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo

from civreg import sites
from civreg.catalogue import HOME_COUNTRY
from workcal import COUNTRY_TIMEZONES, Country, WorkingCalendar, zone

COUNTRIES: tuple[Country, ...] = ("KZ", "KG")


def known(country: str) -> Country:
    for c in COUNTRIES:
        if c == country:
            return c
    raise ValueError(f"no country {country!r}: only {', '.join(COUNTRIES)}")


def timezone_of(country: str) -> ZoneInfo:
    """Where the country's days begin and end (KZ: Asia/Almaty, KG: Asia/Bishkek)."""
    return zone(COUNTRY_TIMEZONES[known(country)])


@cache
def calendar(country: str) -> WorkingCalendar:
    """The country's production calendar with public holidays only (no decrees)."""
    return WorkingCalendar(known(country))


def of_site(site_id: str | None) -> str:
    """The country of a site; the home country for none or an unknown one (validated where it is used)."""
    return sites.load().country_of(site_id) or HOME_COUNTRY
