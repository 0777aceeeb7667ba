"""Registry offices and service centres as reference data (reference/sites.yaml)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict


class Names(BaseModel):
    model_config = ConfigDict(frozen=True)
    ru: str
    kk: str
    en: str


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

    def office(self, office_id: str) -> RegistryOffice | None:
        return next((o for o in self.registry_offices if o.id == office_id), None)

    def centre(self, centre_id: str) -> ServiceCentre | None:
        return next((c for c in self.service_centres if c.id == centre_id), None)


@cache
def load() -> Sites:
    text = resources.files("civreg.reference").joinpath("sites.yaml").read_text(encoding="utf-8")
    return Sites.model_validate(yaml.safe_load(text))
