"""The state-service catalogue as data (reference/catalogue.yaml): names, channels, checklists, terms, steps."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from btkernel import clock
from civreg import sites
from civreg.calendar import ALMATY
from civreg.sites import Names
from workcal import zone

Channel = Literal["desk", "state_corporation", "portal"]
# The countries whose editions the catalogue holds (ADR 0039); a site serves its own country's edition only.
Country = Literal["KZ", "KG"]
HOME_COUNTRY: Country = "KZ"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class DocumentItem(_Frozen):
    code: str
    required: Literal["always", "optional", "if_representative"]
    name: Names
    # A document that belongs to some variants only (a court decision for a divorce on a court decision).
    only_variant: str | list[str] | None = None
    unless_variant: str | list[str] | None = None

    def applies_to(self, variant: str | None) -> bool:
        def listed(v: str | list[str] | None) -> bool:
            return variant is not None and variant in ([v] if isinstance(v, str) else (v or []))

        if self.only_variant is not None and not listed(self.only_variant):
            return False
        return not listed(self.unless_variant)


class TermRule(_Frozen):
    when: str
    value: int
    unit: Literal["minutes", "hours", "working_hours", "working_days", "calendar_days", "weeks", "months"]
    acceptance_day_counted: bool = False
    source: str
    default: bool = False

    def term(self) -> dict[str, object]:
        """The term itself, as `workcal.Term` and the deadline tables take it."""
        return {
            "value": self.value,
            "unit": self.unit,
            "acceptance_day_counted": self.acceptance_day_counted,
            "source": self.source,
        }


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


class EarliestRegistration(_Frozen):
    """A minimum delay: the act may not be registered before this long after filing (marriage, mutual-consent
    divorce)."""

    value: int
    unit: Literal["months", "calendar_days"]
    variants: list[str]
    source: str


class ThirdPartyNotice(_Frozen):
    """A notice the office must send to a third party before registering (divorce, S002/App.9 p.5(4))."""

    variants: list[str]
    value: int
    unit: Literal["weeks", "calendar_days"]
    to: str
    source: str


class DateAssignment(_Frozen):
    required: bool
    agreed_with_applicants: bool = False
    source: str
    # The variants that need it (marriage itself, not an amendment of a marriage record); None: every variant.
    variants: list[str] | None = None

    def needed_for(self, variant: str) -> bool:
        return self.required and (self.variants is None or variant in self.variants)


class Contradiction(_Frozen):
    ref: str
    choice: str


class Fee(_Frozen):
    payable: bool
    amount_mrp: str
    basis: str
    # The currency of the country's edition (ADR 0039). Kazakh amounts are MRP multiples (the duty tariff turns
    # them into tiyn); a Kyrgyz amount is stated directly in integer tyiyn (1 som = 100 tyiyn) in `amount_minor`.
    currency: Literal["KZT", "KGS"] = "KZT"
    amount_minor: int | None = None


class StateService(_Frozen):
    """Государственная услуга: one civil-registration service in the edition valid from `valid_from`."""

    id: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    source: str
    # The country whose edition this is (ADR 0039): the same service id has one edition per country.
    country: Country = HOME_COUNTRY
    # The partner agency that decides the case (contracts.yaml `agency`), when it is not a civil-registration
    # service of the platform's registry: the window accepts and hands over, the agency decides (issue 14).
    decided_by: str | None = None
    # Where the sources give the service but not its terms, lists and fees: what to check them against.
    to_check: str | None = None
    names: Names
    channels: list[Channel]
    fee: Fee
    documents: list[DocumentItem]
    review_terms: list[TermRule]
    late_after_working_days: int | None = None
    forward_term: Duration
    steps: list[Step]
    results: list[str]
    form: list[Literal["electronic", "paper"]] = ["paper"]
    # A channel offered only when a detail of the application is true (repeat certificates at the desk only
    # for requests from abroad, S002/App.3 p.2).
    channel_conditions: dict[Channel, str] = {}
    record_kind: str | None = None
    seal: bool = False
    ceremony: bool = False
    reissues_birth_certificate: bool = False
    earliest_registration: EarliestRegistration | None = None
    third_party_notice: ThirdPartyNotice | None = None
    date_assignment: DateAssignment | None = None
    portal_notice: str | None = None
    refusal_receipt_form: str = "App.3 to the Standard"

    def term(self, when: str) -> TermRule:
        for t in self.review_terms:
            if t.when == when:
                return t
        raise KeyError(f"{self.id} has no review term for {when}")

    def default_term(self) -> TermRule:
        return next((t for t in self.review_terms if t.default), self.review_terms[0])

    def variants(self) -> list[str]:
        return [t.when for t in self.review_terms]

    def step_role(self, order: int) -> str:
        return next(s.role for s in self.steps if s.order == order)

    @property
    def registering_role(self) -> str:
        """Who registers the application at the office: the chancellery, or in annulment the worker of the
        provider (S002/App.10 p.7)."""
        return self.steps[0].role

    @property
    def issuing_role(self) -> str:
        """Who issues the result or sends it on: the last step's role (annulment: the executive, p.5(5))."""
        return self.steps[-1].role

    def required_documents(
        self, *, with_representative: bool, variant: str | None = None
    ) -> list[DocumentItem]:
        return [
            d
            for d in self.documents
            if d.applies_to(variant)
            and (d.required == "always" or (d.required == "if_representative" and with_representative))
        ]


class Catalogue(_Frozen):
    catalogue_version: int
    services: list[StateService]
    contradictions: list[Contradiction] = []

    def get(
        self, service_id: str, on: dt.date | None = None, country: str = HOME_COUNTRY
    ) -> StateService | None:
        """The edition of a service in force on `on` (today when not given) in `country` (ADR 0039)."""
        day = on or clock.today(ALMATY)
        for s in self.services:
            if (
                s.id == service_id
                and s.country == country
                and s.valid_from <= day
                and (s.valid_to is None or day <= s.valid_to)
            ):
                return s
        return None

    def at_site(self, service_id: str, at: dt.datetime, site_id: str | None) -> StateService | None:
        """The edition a site applies to an application filed at `at`: its country's, in force on the site's
        local date (a Kyrgyz office: the Kyrgyz edition, Bishkek's date; ADR 0039). An unknown site: Kazakh."""
        site = sites.load().site(site_id) if site_id else None
        if site is None:
            return self.get(service_id, on=at.astimezone(ALMATY).date())
        return self.get(service_id, on=at.astimezone(zone(site.timezone)).date(), country=site.country)

    def ids(self, country: str | None = HOME_COUNTRY) -> list[str]:
        """The service ids of one country's editions (Kazakhstan's unless told), or of every country's when None."""
        return sorted({s.id for s in self.services if country is None or s.country == country})

    def countries_of(self, service_id: str) -> list[str]:
        """The countries that offer a service (in some edition): for refusing a service at a site whose
        country does not (ADR 0039)."""
        return sorted({s.country for s in self.services if s.id == service_id})


@cache
def load() -> Catalogue:
    text = resources.files("civreg.reference").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    return Catalogue.model_validate(yaml.safe_load(text))
