"""The state-service catalogue as the public API shows it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from btkernel import clock
from btkernel.errors import InvalidInput
from btkernel.problems import NotFound
from btkernel.service import ContextDep
from civreg import catalogue, countries, sites

router = APIRouter(prefix="/api/v1/services", tags=["services"])

CountryQuery = Annotated[
    Literal["KZ", "KG"] | None,
    Query(description="the country's edition (ADR 0039); a site-bound operator sees only the site's country"),
]


def edition_country(ctx: ContextDep, asked: str | None) -> str:
    """The edition the caller sees: the operator's site's country (a Kyrgyz centre sees only Kyrgyz services),
    else the country asked, else Kazakhstan's."""
    site = ctx.actor.site if ctx.actor is not None else None
    own = sites.load().country_of(site)
    if own is not None and asked is not None and asked != own:
        raise InvalidInput(
            f"an operator of a site in {own} sees only the {own} edition", field="query.country"
        )
    return own or asked or catalogue.HOME_COUNTRY


@router.get("", summary="The services the platform offers in a country (the caller's site's by default)")
async def list_services(
    ctx: ContextDep,
    on: Annotated[dt.date | None, Query(description="edition in force on this date")] = None,
    country: CountryQuery = None,
) -> list[dict[str, Any]]:
    cat = catalogue.load()
    where = edition_country(ctx, country)
    day = on or clock.today(countries.timezone_of(where))
    out = []
    for sid in cat.ids(where):
        s = cat.get(sid, on=day, country=where)
        if s is not None:
            out.append(
                {
                    "id": s.id,
                    "country": s.country,
                    "decided_by": s.decided_by,
                    "names": s.names.model_dump(exclude_defaults=True),
                    "channels": s.channels,
                    "channel_conditions": s.channel_conditions,
                    "form": s.form,
                    "valid_from": s.valid_from,
                    "valid_to": s.valid_to,
                    "source": s.source,
                    "variants": s.variants(),
                    "results": s.results,
                }
            )
    return out


@router.get("/contradictions", summary="Where the sources contradict each other, and the choice made")
async def contradictions() -> list[dict[str, Any]]:
    return [c.model_dump() for c in catalogue.load().contradictions]


@router.get("/{service_id}", summary="One service in full: channels, checklist, terms, steps, fee")
async def get_service(
    service_id: str,
    ctx: ContextDep,
    on: Annotated[dt.date | None, Query(description="edition in force on this date")] = None,
    country: CountryQuery = None,
) -> dict[str, Any]:
    where = edition_country(ctx, country)
    day = on or clock.today(countries.timezone_of(where))
    s = catalogue.load().get(service_id, on=day, country=where)
    if s is None:
        raise NotFound(f"no service {service_id!r} in {where} in force on {day}")
    data = s.model_dump(mode="json")
    data["catalogue_version"] = catalogue.load().catalogue_version
    data["editions"] = [
        {"valid_from": e.valid_from, "valid_to": e.valid_to, "source": e.source}
        for e in catalogue.load().services
        if e.id == service_id and e.country == where
    ]
    return data
