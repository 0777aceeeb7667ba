"""Registry offices and service centres as reference data (reference/sites.yaml), with the country each serves
and the working schedule it keeps (ADR 0039: a Kyrgyz site counts in Bishkek time on the Kyrgyz calendar)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from workcal import Schedule, builtin_schedule


class Names(BaseModel):
    """A name in Russian and English, and in the state language of the country it belongs to: Kazakh (`kk`) for
    Kazakh services and sites, Kyrgyz (`ky`) for the Kyrgyz edition (ADR 0039) — at least one of the two."""

    model_config = ConfigDict(frozen=True)
    ru: str
    kk: str = ""
    en: str
    ky: str | None = None

    @model_validator(mode="after")
    def _a_state_language(self) -> Names:
        if not self.kk and not self.ky:
            raise ValueError("a name needs its state-language form: kk (Kazakh) or ky (Kyrgyz)")
        return self

    def in_language(self, lang: str) -> str:
        """The name in `lang` (ru, kk, ky, en), Russian when that language has none."""
        value = getattr(self, lang, None) if lang in ("ru", "kk", "ky", "en") else None
        return value if isinstance(value, str) and value else self.ru


class Site(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    country: str
    timezone: str
    schedule: str
    name: Names
    address: str
    # Feature flags of pilots running at this site, e.g. `accelerated_birth_death` (S000).
    pilots: list[str] = []


class RegistryOffice(Site):
    """Услугодатель: a district civil-registration department."""


class ServiceCentre(Site):
    """A State Corporation service centre; forwards to `registry_office` by default."""

    registry_office: str


class Sites(BaseModel):
    model_config = ConfigDict(frozen=True)
    registry_offices: list[RegistryOffice]
    service_centres: list[ServiceCentre]
    # Schedules kept as data here (the Kyrgyz sites'), by the name a site's `schedule` gives; any other name is
    # one of workcal's built-in schedules (S004 p.8).
    schedules: dict[str, dict[str, Any]] = {}

    def office(self, office_id: str) -> RegistryOffice | None:
        return next((o for o in self.registry_offices if o.id == office_id), None)

    def centre(self, centre_id: str) -> ServiceCentre | None:
        return next((c for c in self.service_centres if c.id == centre_id), None)

    def site(self, site_id: str) -> Site | None:
        return self.office(site_id) or self.centre(site_id)

    def country_of(self, site_id: str | None) -> str | None:
        """The country a site serves (KZ, KG); None for an unknown site or none."""
        found = self.site(site_id) if site_id else None
        return found.country if found else None

    def schedule_of(self, site: Site, exceptions: Mapping[Any, Any] | None = None) -> Schedule:
        """The site's working schedule in the site's own zone (a Kyrgyz site: Asia/Bishkek), with its per-date
        exceptions."""
        data = self.schedules.get(site.schedule)
        if data is None:
            return builtin_schedule(site.schedule, timezone=site.timezone, exceptions=exceptions)
        merged = {**data, "name": site.schedule, "timezone": site.timezone}
        if exceptions:
            merged["exceptions"] = exceptions
        return Schedule.from_dict(merged)


@cache
def load() -> Sites:
    text = resources.files("civreg.reference").joinpath("sites.yaml").read_text(encoding="utf-8")
    return Sites.model_validate(yaml.safe_load(text))
