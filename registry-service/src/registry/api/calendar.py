"""The working calendar through the API: transfer decrees and per-site schedule exceptions (supervisor), and which
days a site works. A change is effective at once: running deadlines are recomputed in the same unit of work
(registry.app.calendar)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from btkernel import problem_docs
from btkernel.bounded import Id
from btkernel.service import ActorDep
from civreg import sites
from registry.api.deps import UowDep
from registry.app import calendar as use_cases
from registry.app import queries

router = APIRouter(prefix="/api/v1", tags=["calendar"])
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class OverrideIn(BaseModel):
    """A government transfer decree: a Saturday made a working day, or a weekday made a day off."""

    model_config = ConfigDict(extra="forbid")
    country: Literal["KZ", "KG"]
    day: dt.date
    kind: Literal["working", "day_off", "ordinary"] = Field(
        description="working: a weekend day worked; day_off: a weekday off; ordinary: undo a wrong package holiday"
    )
    reason: str = Field(min_length=3, max_length=500)
    source: str = Field(
        min_length=3, max_length=500, description="the decree, e.g. 'Government decree No. …'"
    )


class ScheduleExceptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: dt.date
    hours: list[tuple[str, str]] = Field(
        max_length=24, description="[] = closed that day; else opening intervals HH:MM–HH:MM"
    )
    reason: str = Field(min_length=3, max_length=500)

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: list[tuple[str, str]]) -> list[tuple[str, str]]:
        previous_end = ""
        for start, end in v:
            if not _HHMM.match(start) or not _HHMM.match(end):
                raise ValueError("times are HH:MM, e.g. 09:00")
            if start >= end:
                raise ValueError(f"interval {start}–{end} ends before it starts")
            if start < previous_end:
                raise ValueError("intervals must be in order and must not overlap")
            previous_end = end
        return v


@router.get("/calendar/overrides", summary="Transfer decrees in force")
async def list_overrides(
    uow: UowDep, actor: ActorDep, country: Annotated[Literal["KZ", "KG"] | None, Query()] = None
) -> list[dict[str, Any]]:
    return await queries.overrides(country, uow)


@router.post(
    "/calendar/overrides",
    status_code=201,
    summary="Add a transfer decree (supervisor)",
    responses=problem_docs.declare(409),
)
async def add_override(body: OverrideIn, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    command = use_cases.AddOverride(
        country=body.country,
        day=body.day,
        kind=body.kind,
        reason=body.reason,
        source=body.source,
        by=actor.id,
    )
    recomputed = await use_cases.add_override(command, uow)
    return {**body.model_dump(mode="json"), "recomputed_deadlines": recomputed}


@router.delete("/calendar/overrides/{country}/{day}", summary="Withdraw a transfer decree (supervisor)")
async def delete_override(
    country: Literal["KZ", "KG"], day: dt.date, uow: UowDep, actor: ActorDep
) -> dict[str, Any]:
    recomputed = await use_cases.delete_override(country, day, uow)
    return {"country": country, "day": day, "recomputed_deadlines": recomputed}


@router.put("/sites/{site_id}/schedule-exceptions", summary="Set a site's hours for one day (supervisor)")
async def put_schedule_exception(
    site_id: Id, body: ScheduleExceptionIn, uow: UowDep, actor: ActorDep
) -> dict[str, Any]:
    command = use_cases.SetScheduleException(
        site_id=site_id, day=body.day, hours=body.hours, reason=body.reason, by=actor.id
    )
    recomputed = await use_cases.set_schedule_exception(command, uow)
    return {"site_id": site_id, **body.model_dump(mode="json"), "recomputed_deadlines": recomputed}


@router.get("/sites", summary="The registry offices and service centres, with their names and countries")
async def list_sites(actor: ActorDep) -> list[dict[str, Any]]:
    """Reference data (civreg.sites), so the desk offers sites to choose from instead of typed ids."""
    reference = sites.load()
    return [
        {"id": s.id, "kind": kind, "country": s.country, "name": s.name.model_dump(), "address": s.address}
        for kind, group in (
            ("registry_office", reference.registry_offices),
            ("service_centre", reference.service_centres),
        )
        for s in group
    ]


@router.get("/sites/{site_id}/working-days", summary="Which days a site works, and its hours")
async def working_days(
    site_id: Id,
    uow: UowDep,
    actor: ActorDep,
    date_from: Annotated[dt.date, Query(alias="from")],
    date_to: Annotated[dt.date, Query(alias="to")],
) -> list[dict[str, Any]]:
    return await queries.working_days(site_id, date_from, date_to, uow)
