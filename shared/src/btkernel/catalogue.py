"""The state-service catalogue as data (reference/catalogue.yaml): names, channels, checklists, terms, steps."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from btkernel.sites import Names

Channel = Literal["desk", "state_corporation", "portal"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class DocumentItem(_Frozen):
    code: str
    required: Literal["always", "optional", "if_representative"]
    name: Names


class TermRule(_Frozen):
    when: str
    value: int
    unit: Literal["minutes", "hours", "working_hours", "working_days", "calendar_days", "weeks", "months"]
    acceptance_day_counted: bool = False
    source: str


class Duration(_Frozen):
    value: int
    unit: str
    source: str | None = None


class Step(_Frozen):
    order: int
    role: str
    action: str
    max: Duration | Literal["review_term"]
    source: str


class Fee(_Frozen):
    payable: bool
    amount_mrp: str
    basis: str


class StateService(_Frozen):
    """Государственная услуга: one civil-registration service in the edition valid from `valid_from`."""

    id: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    source: str
    names: Names
    channels: list[Channel]
    fee: Fee
    documents: list[DocumentItem]
    review_terms: list[TermRule]
    late_after_working_days: int | None = None
    forward_term: Duration
    steps: list[Step]
    results: list[str]

    def term(self, when: str) -> TermRule:
        for t in self.review_terms:
            if t.when == when:
                return t
        raise KeyError(f"{self.id} has no review term for {when}")

    def required_documents(self, *, with_representative: bool) -> list[DocumentItem]:
        return [
            d
            for d in self.documents
            if d.required == "always" or (d.required == "if_representative" and with_representative)
        ]


class Catalogue(_Frozen):
    catalogue_version: int
    services: list[StateService]

    def get(self, service_id: str, on: dt.date | None = None) -> StateService | None:
        """The edition of a service in force on `on` (today when not given)."""
        day = on or dt.date.today()
        for s in self.services:
            if s.id == service_id and s.valid_from <= day and (s.valid_to is None or day <= s.valid_to):
                return s
        return None

    def ids(self) -> list[str]:
        return sorted({s.id for s in self.services})


@cache
def load() -> Catalogue:
    text = resources.files("btkernel.reference").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    return Catalogue.model_validate(yaml.safe_load(text))
