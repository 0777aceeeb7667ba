"""Deadlines through the API: running terms per case or application, office and executive views, statistics."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from btkernel import problem_docs
from btkernel.problems import InvalidInput
from btkernel.service import ActorDep
from registry.api.deps import UowDep
from registry.app import queries

router = APIRouter(prefix="/api/v1", tags=["deadlines"])
STATISTICS_FIELDS = [
    "registry_office_id",
    "service_id",
    "count",
    "median_seconds_to_result",
    "p90_seconds_to_result",
    "share_on_time",
    "country",
]
# A country's figures and deadlines (ADR 0039: the Kyrgyz one-window sites next to the Kazakh ones).
CountryQuery = Annotated[Literal["KZ", "KG"] | None, Query(description="only this country's offices")]


@router.get(
    "/deadlines",
    summary="Legal terms: running ones by default, most urgent first",
    responses=problem_docs.declare(404),
)
async def list_deadlines(
    uow: UowDep,
    actor: ActorDep,
    application_id: Annotated[str | None, Query(max_length=100)] = None,
    case_id: Annotated[str | None, Query(max_length=100)] = None,
    responsible_id: Annotated[
        str | None, Query(max_length=100, description="e.g. an executive's user name")
    ] = None,
    due: Annotated[Literal["today", "overdue"] | None, Query()] = None,
    service_id: Annotated[str | None, Query(max_length=100)] = None,
    include_done: Annotated[bool, Query()] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    country: CountryQuery = None,
) -> list[dict[str, Any]]:
    return await queries.deadlines(
        actor,
        uow,
        application_id=application_id,
        case_id=case_id,
        responsible_id=responsible_id,
        due=due,
        service_id=service_id,
        include_done=include_done,
        limit=limit,
        country=country,
    )


@router.get(
    "/statistics",
    summary="Per office and service: count, median and p90 time to result, share on time",
    response_model=None,
    # Both forms the `format` parameter selects, so a client (and the fuzz test) knows a CSV answer is intended.
    responses={
        200: {
            "description": "the figures as JSON, or as CSV with `format=csv`",
            "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def statistics(
    uow: UowDep,
    actor: ActorDep,
    date_from: Annotated[dt.date, Query(alias="from")],
    date_to: Annotated[dt.date, Query(alias="to")],
    registry_office_id: Annotated[str | None, Query(max_length=100)] = None,
    service_id: Annotated[str | None, Query(max_length=100)] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    country: CountryQuery = None,
) -> Any:
    if date_to < date_from:
        raise InvalidInput("`to` is before `from`", field="query.to")
    items = await queries.statistics(
        actor,
        uow,
        date_from=date_from,
        date_to=date_to,
        registry_office_id=registry_office_id,
        service_id=service_id,
        country=country,
    )
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=STATISTICS_FIELDS)
        writer.writeheader()
        writer.writerows(items)
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="statistics-{date_from}-{date_to}.csv"'},
        )
    return {"from": date_from, "to": date_to, "items": items}
