"""The state duty (государственная пошлина) as dated configuration, shared so that intake quotes before acceptance
exactly what the fee service later decides (ADR 0034).

`tariff()` reads `tariff.yaml` once: the MRP value per year, the rates per service and variant in MRP with their
legal basis, and the exemptions of S004 p.7 with the supporting document each requires. `Tariff.quote` turns one
application's service, variant, record kind, filing date and claimed exemption into integer tiyn — through
`Decimal`, never a float.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from civreg.catalogue import StateService
from civreg.events.details import ServiceDetails, stated_variant
from civreg.sites import Names

TIYN_PER_TENGE = 100
# The tariff's currency; an edition of another country states its fee in its own (catalogue.yaml `fee.currency`).
HOME_CURRENCY: Literal["KZT"] = "KZT"
MRP_DECIMALS = 4
# The checklist code (catalogue.yaml) of the document that supports a claimed exemption (S004 p.7).
EXEMPTION_DOCUMENT = "exemption_document"
# The checklist code of the paper proof of payment that a settled duty makes unnecessary.
FEE_RECEIPT = "fee_receipt"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Dated(_Frozen):
    valid_from: dt.date
    valid_to: dt.date | None = None

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


def parse_mrp(text: str) -> Decimal:
    """An MRP multiple from its decimal text: finite, non-negative, at most four decimals (numeric(12,4))."""
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a decimal number of MRP") from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{text!r} must be a finite, non-negative number of MRP")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MRP_DECIMALS:
        raise ValueError(f"{text!r} has more than {MRP_DECIMALS} decimal places")
    return amount


def format_mrp(amount: Decimal) -> str:
    """Plain decimal notation without trailing zeros ("0.5", "2", never "5E-1")."""
    return f"{amount.normalize():f}" if amount else "0"


class MrpValue(_Frozen):
    valid_from: dt.date
    # Whole tenge, strictly an integer: money never goes through a float.
    tenge: StrictInt = Field(gt=0)
    source: str
    to_check: bool = True

    @property
    def tiyn(self) -> int:
        return self.tenge * TIYN_PER_TENGE


class Rate(_Dated):
    service_id: str
    variants: list[str] | None = None
    record_kinds: list[str] | None = None
    amount_mrp: str
    basis: str
    to_check: bool = True

    @field_validator("amount_mrp")
    @classmethod
    def _amount(cls, v: str) -> str:
        parse_mrp(v)
        return v

    def matches(self, service_id: str, variant: str | None, record_kind: str | None, on: dt.date) -> bool:
        return (
            self.service_id == service_id
            and self.in_force(on)
            and (self.variants is None or variant in self.variants)
            and (self.record_kinds is None or record_kind in self.record_kinds)
        )


class Scope(_Frozen):
    service_id: str
    record_kinds: list[str] | None = None

    def covers(self, service_id: str, record_kind: str | None) -> bool:
        return self.service_id == service_id and (
            self.record_kinds is None or record_kind in self.record_kinds
        )


class Exemption(_Frozen):
    """One ground of exemption of S004 p.7, granted only on the supporting document it names."""

    code: str
    source: str
    name: Names
    document: Names
    applies_to: list[Scope]

    def covers(self, service_id: str, record_kind: str | None) -> bool:
        return any(s.covers(service_id, record_kind) for s in self.applies_to)


class NotExempt(ValueError):
    """The claimed exemption is unknown or does not cover this service (S004 p.7 lists where each applies)."""


class Quote(_Frozen):
    """The duty due for one application: what the receipt prints and the fee decision records."""

    service_id: str
    on: dt.date
    amount_tiyn: int
    # The tariff's multiple before an exemption ("0.5"); 0 for a free service.
    mrp_multiple: str
    mrp_value_tiyn: int | None
    mrp_valid_from: dt.date | None
    basis: str
    exemption: str | None = None
    to_check: bool = False
    # The currency whose hundredths `amount_tiyn` counts (ADR 0039): tenge, or som (tyiyn) for a Kyrgyz edition.
    currency: Literal["KZT", "KGS"] = HOME_CURRENCY

    @property
    def payable(self) -> bool:
        """Something must be paid: neither free nor exempt."""
        return self.amount_tiyn > 0


class Tariff(_Frozen):
    mrp: list[MrpValue]
    rates: list[Rate]
    exemptions: list[Exemption]

    @model_validator(mode="after")
    def _consistent(self) -> Tariff:
        days = [v.valid_from for v in self.mrp]
        if days != sorted(set(days)):
            raise ValueError("MRP values must be listed by valid_from, each date once")
        codes = [e.code for e in self.exemptions]
        if len(codes) != len(set(codes)):
            raise ValueError("each exemption code once")
        return self

    def mrp_on(self, day: dt.date) -> MrpValue:
        """The MRP value in force on `day`: the last one whose valid_from is not after it."""
        found = None
        for value in self.mrp:
            if value.valid_from <= day:
                found = value
        if found is None:
            raise LookupError(f"no MRP value configured for {day.isoformat()} (civreg/duty/tariff.yaml)")
        return found

    def rate(self, service_id: str, variant: str | None, record_kind: str | None, on: dt.date) -> Rate | None:
        return next((r for r in self.rates if r.matches(service_id, variant, record_kind, on)), None)

    def exemption(self, code: str) -> Exemption | None:
        return next((e for e in self.exemptions if e.code == code), None)

    def exemptions_for(self, service_id: str, record_kind: str | None) -> list[Exemption]:
        return [e for e in self.exemptions if e.covers(service_id, record_kind)]

    def quote(
        self,
        service_id: str,
        on: dt.date,
        *,
        variant: str | None = None,
        record_kind: str | None = None,
        exemption: str | None = None,
    ) -> Quote:
        """The duty for an application filed on the local date `on`. A claimed exemption that does not cover the
        service raises `NotExempt`; one that does makes the amount 0 (the multiple stays, to show what was
        waived)."""
        granted = self.exemption(exemption) if exemption is not None else None
        if exemption is not None and (granted is None or not granted.covers(service_id, record_kind)):
            offered = ", ".join(e.code for e in self.exemptions_for(service_id, record_kind)) or "none"
            raise NotExempt(f"exemption {exemption!r} does not apply here; offered: {offered}")
        rate = self.rate(service_id, variant, record_kind, on)
        if rate is None or parse_mrp(rate.amount_mrp) == 0:
            # Free services need no MRP value, so they are quoted for dates the table does not cover.
            return Quote(
                service_id=service_id,
                on=on,
                amount_tiyn=0,
                mrp_multiple="0",
                mrp_value_tiyn=None,
                mrp_valid_from=None,
                basis=rate.basis
                if rate
                else "no state duty for this service and case (civreg/duty/tariff.yaml)",
                exemption=exemption,
            )
        multiple = parse_mrp(rate.amount_mrp)
        mrp = self.mrp_on(on)
        basis = (
            f"{rate.basis}; {format_mrp(multiple)} MRP × {mrp.tenge} tenge (MRP in force from "
            f"{mrp.valid_from.isoformat()}, {mrp.source})"
        )
        if granted is not None:
            basis = f"{basis}; exempt: {granted.code} ({granted.source})"
        return Quote(
            service_id=service_id,
            on=on,
            amount_tiyn=0 if exemption else to_tiyn(multiple, mrp),
            mrp_multiple=format_mrp(multiple),
            mrp_value_tiyn=mrp.tiyn,
            mrp_valid_from=mrp.valid_from,
            basis=basis,
            exemption=exemption,
            to_check=rate.to_check or mrp.to_check,
        )


def quote_application(
    service: StateService,
    details: ServiceDetails | Mapping[str, Any],
    on: dt.date,
    *,
    exemption: str | None = None,
) -> Quote:
    """The duty of one application: its variant is the one its details state, else the service's default case
    (a marriage names none); the record kind matters for repeat certificates and restoration. Intake quotes with
    this before acceptance and the fee service decides with it, so both give the same amount."""
    variant = stated_variant(details)
    if variant is None and service.review_terms:
        variant = service.default_term().when
    kind = (
        details.get("record_kind") if isinstance(details, Mapping) else getattr(details, "record_kind", None)
    )
    return tariff().quote(
        service.id,
        on,
        variant=variant,
        record_kind=kind if isinstance(kind, str) else None,
        exemption=exemption,
    )


def quote_edition(
    service: StateService,
    details: ServiceDetails | Mapping[str, Any],
    on: dt.date,
    *,
    exemption: str | None = None,
) -> Quote:
    """The duty of one application on the edition it was filed under (ADR 0039): a Kazakh edition by the tariff
    (`quote_application`); another country's edition by its catalogue entry's fixed amount in that currency's
    hundredths (som: tyiyn), with no MRP and no exemption (S004 p.7 is Kazakh law: a claimed one is `NotExempt`).
    Intake quotes and the fee service decides with this, so a Kyrgyz marriage is never charged tenge."""
    if service.fee.currency == HOME_CURRENCY:
        return quote_application(service, details, on, exemption=exemption)
    if exemption is not None:
        raise NotExempt(f"no state-duty exemptions are configured for {service.country}")
    return Quote(
        service_id=service.id,
        on=on,
        amount_tiyn=(service.fee.amount_minor or 0) if service.fee.payable else 0,
        mrp_multiple="0",
        mrp_value_tiyn=None,
        mrp_valid_from=None,
        basis=f"{service.fee.basis} [{service.fee.currency}]",
        to_check=service.to_check is not None,
        currency=service.fee.currency,
    )


def to_tiyn(amount_mrp: Decimal, mrp: MrpValue) -> int:
    """Rounded to the whole tiyn, half up, once, at the end."""
    exact = amount_mrp * mrp.tenge * TIYN_PER_TENGE
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_tenge(tiyn: int) -> str:
    """Tenge with two decimals ("2162.50"), from the integer tiyn — never through a float. Som from tyiyn the same
    way: both currencies count hundredths."""
    return str((Decimal(tiyn) / TIYN_PER_TENGE).quantize(Decimal("0.01")))


@cache
def tariff() -> Tariff:
    text = resources.files(__name__).joinpath("tariff.yaml").read_text(encoding="utf-8")
    return Tariff.model_validate(yaml.safe_load(text))
