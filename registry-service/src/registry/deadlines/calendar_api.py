"""The working calendar through the API: transfer decrees and per-site schedule exceptions (supervisor), and which
days a site works. A change is effective at once: running deadlines are recomputed in the same transaction."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from btkernel import problem_docs, sites
from btkernel.bounded import Id
from btkernel.problems import Conflict, InvalidInput, NotFound
from btkernel.service import ActorDep, PoolDep, require_role
from registry.deadlines import terms
from registry.deadlines.recompute import recompute_running

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
    pool: PoolDep, actor: ActorDep, country: Annotated[Literal["KZ", "KG"] | None, Query()] = None
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT * FROM calendar_overrides WHERE ($1::text IS NULL OR country = $1) ORDER BY day", country
    )
    return [dict(r) for r in rows]


@router.post(
    "/calendar/overrides",
    status_code=201,
    summary="Add a transfer decree (supervisor)",
    responses=problem_docs.declare(409),
)
async def add_override(body: OverrideIn, pool: PoolDep, actor: ActorDep) -> dict[str, Any]:
    require_role(actor, "supervisor")
    async with pool.acquire() as conn, conn.transaction():
        try:
            await conn.execute(
                "INSERT INTO calendar_overrides (country, day, kind, reason, source, created_by)"
                " VALUES ($1,$2,$3,$4,$5,$6)",
                body.country,
                body.day,
                body.kind,
                body.reason,
                body.source,
                actor.id,
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(
                f"{body.day} already has an override for {body.country}; delete it first", field="body.day"
            ) from None
        recomputed = await recompute_running(conn)
    return {**body.model_dump(mode="json"), "recomputed_deadlines": recomputed}


@router.delete("/calendar/overrides/{country}/{day}", summary="Withdraw a transfer decree (supervisor)")
async def delete_override(
    country: Literal["KZ", "KG"], day: dt.date, pool: PoolDep, actor: ActorDep
) -> dict[str, Any]:
    require_role(actor, "supervisor")
    async with pool.acquire() as conn, conn.transaction():
        deleted = await conn.fetchval(
            "DELETE FROM calendar_overrides WHERE country=$1 AND day=$2 RETURNING 1", country, day
        )
        if not deleted:
            raise NotFound(f"no override on {day} for {country}")
        recomputed = await recompute_running(conn)
    return {"country": country, "day": day, "recomputed_deadlines": recomputed}


def _site_or_404(site_id: str) -> None:
    reference = sites.load()
    if reference.office(site_id) is None and reference.centre(site_id) is None:
        raise NotFound(f"no site {site_id!r}")


@router.put("/sites/{site_id}/schedule-exceptions", summary="Set a site's hours for one day (supervisor)")
async def put_schedule_exception(
    site_id: Id, body: ScheduleExceptionIn, pool: PoolDep, actor: ActorDep
) -> dict[str, Any]:
    require_role(actor, "supervisor")
    _site_or_404(site_id)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO site_schedule_exceptions (site_id, day, hours, reason, created_by) VALUES ($1,$2,$3,$4,$5)"
            " ON CONFLICT (site_id, day) DO UPDATE SET hours = $3, reason = $4, created_by = $5, created_at = now()",
            site_id,
            body.day,
            [list(h) for h in body.hours],
            body.reason,
            actor.id,
        )
        recomputed = await recompute_running(conn)
    return {"site_id": site_id, **body.model_dump(mode="json"), "recomputed_deadlines": recomputed}


@router.get("/sites/{site_id}/working-days", summary="Which days a site works, and its hours")
async def working_days(
    site_id: Id,
    pool: PoolDep,
    actor: ActorDep,
    date_from: Annotated[dt.date, Query(alias="from")],
    date_to: Annotated[dt.date, Query(alias="to")],
) -> list[dict[str, Any]]:
    _site_or_404(site_id)
    if not 0 <= (date_to - date_from).days <= 366:
        raise InvalidInput("give a period of at most a year, `from` not after `to`", field="query.to")
    async with pool.acquire() as conn:
        site_clock = await terms.load(conn)
    return site_clock.working_days(site_id, date_from, date_to)
