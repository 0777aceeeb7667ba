"""The state duty a service costs, quoted before acceptance from the shared tariff (`civreg.duty`, ADR 0034): the
operator tells the applicant what to pay and which exemptions of S004 p.7 apply, on which document."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from btkernel import clock
from btkernel.bounded import Code
from btkernel.errors import InvalidInput
from btkernel.problems import NotFound
from btkernel.service import ContextDep
from civreg import catalogue, countries, duty
from civreg.events.details import RecordKind
from civreg.sites import Names
from intake.api.services import CountryQuery, edition_country

router = APIRouter(prefix="/api/v1/services", tags=["services"])


class ExemptionOut(BaseModel):
    code: str
    name: Names
    document: Names
    source: str


class DutyQuote(BaseModel):
    service_id: str
    # The edition's country (ADR 0039): the caller's site's, else the one asked.
    country: str
    on: dt.date
    variant: str | None
    # Hundredths of `currency`: tiyn of tenge, or tyiyn of som for a Kyrgyz edition (its fixed amount, no MRP).
    amount_tiyn: int
    # Whole units of `currency` with two decimals (the name predates som).
    amount_tenge: str
    currency: str
    mrp_multiple: str
    mrp_value_tiyn: int | None
    basis: str
    exemption: str | None
    # The amount is configuration not in the sources (services.md §4): to be checked before it binds anyone.
    to_check: bool
    exemptions_offered: list[ExemptionOut]


@router.get("/{service_id}/duty", summary="The state duty due for a service and case, before acceptance")
async def quote_duty(
    ctx: ContextDep,
    service_id: str,
    on: Annotated[
        dt.date | None, Query(description="the filing date (default: today in the country's zone)")
    ] = None,
    variant: Annotated[
        Code | None, Query(description="the case (`details.variant`); default: the usual one")
    ] = None,
    record_kind: Annotated[RecordKind | None, Query(description="repeat certificates, restoration")] = None,
    exemption: Annotated[Code | None, Query(description="an exemption of S004 p.7 claimed")] = None,
    country: CountryQuery = None,
) -> DutyQuote:
    where = edition_country(ctx, country)
    day = on or clock.today(countries.timezone_of(where))
    service = catalogue.load().get(service_id, on=day, country=where)
    if service is None:
        raise NotFound(f"no service {service_id!r} in force on {day.isoformat()}")
    if variant is not None and variant not in service.variants():
        raise InvalidInput(
            f"{variant!r} is not a case of this service; expected one of: {', '.join(service.variants())}",
            field="query.variant",
        )
    details = {"variant": variant, "record_kind": record_kind}
    try:
        quote = duty.quote_edition(service, details, day, exemption=exemption)
    except duty.NotExempt as exc:
        raise InvalidInput(str(exc), field="query.exemption") from exc
    except LookupError as exc:
        raise InvalidInput(str(exc), field="query.on") from exc
    return DutyQuote(
        service_id=service.id,
        country=service.country,
        on=day,
        variant=variant or (service.default_term().when if service.review_terms else None),
        amount_tiyn=quote.amount_tiyn,
        amount_tenge=duty.format_tenge(quote.amount_tiyn),
        currency=quote.currency,
        mrp_multiple=quote.mrp_multiple,
        mrp_value_tiyn=quote.mrp_value_tiyn,
        basis=quote.basis,
        exemption=quote.exemption,
        to_check=quote.to_check,
        exemptions_offered=[
            ExemptionOut(code=e.code, name=e.name, document=e.document, source=e.source)
            for e in duty.tariff().exemptions_for(service.id, record_kind)
            # The tariff's exemptions are Kazakh law (S004 p.7): none for another country's edition.
            if service.fee.currency == duty.HOME_CURRENCY
        ],
    )
