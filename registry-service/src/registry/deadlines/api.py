"""Deadlines through the API: running terms per case or application, office and executive views, statistics."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Query
from fastapi.responses import Response

from btkernel import clock, problem_docs
from btkernel.calendar import ALMATY
from btkernel.problems import InvalidInput, NotFound
from btkernel.service import ActorDep, PoolDep, require_role
from btkernel.workcal import working_time_left
from registry.deadlines import terms

router = APIRouter(prefix="/api/v1", tags=["deadlines"])
READ_ROLES = ("registry_chancellery", "registry_head", "registry_executive", "supervisor")


def _now() -> dt.datetime:
    return clock.now()


def _office_of(role: str, site: str | None) -> str | None:
    return None if role == "supervisor" else site


def _view(row: asyncpg.Record, now: dt.datetime, site_clock: terms.SiteClock) -> dict[str, Any]:
    data = {
        k: row[k]
        for k in (
            "deadline_id",
            "case_id",
            "application_id",
            "registry_office_id",
            "service_id",
            "kind",
            "description",
            "term",
            "site_id",
            "started_at",
            "extension_days",
            "due_at",
            "responsible_role",
            "responsible_id",
            "status",
            "completed_at",
        )
    }
    end = row["completed_at"] or now
    data["seconds_left"] = int((row["due_at"] - end).total_seconds())
    # What a registrar can still use: time inside the site's working hours (negative when late).
    schedule, _ = site_clock.schedule(row["site_id"])
    left = working_time_left(end, row["due_at"], schedule, site_clock.calendar_of(row["site_id"]))
    data["working_seconds_left"] = int(left.total_seconds())
    data["overdue"] = row["status"] == "met_late" or (row["status"] == "running" and row["due_at"] < now)
    return data


@router.get(
    "/deadlines",
    summary="Legal terms: running ones by default, most urgent first",
    responses=problem_docs.declare(404),
)
async def list_deadlines(
    pool: PoolDep,
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
) -> list[dict[str, Any]]:
    require_role(actor, *READ_ROLES)
    now = _now()
    day_end = dt.datetime.combine(now.astimezone(ALMATY).date(), dt.time.max, tzinfo=ALMATY)
    rows = await pool.fetch(
        "SELECT * FROM deadlines WHERE ($1::text IS NULL OR registry_office_id = $1)"
        " AND ($2::text IS NULL OR application_id = $2) AND ($3::text IS NULL OR case_id = $3)"
        " AND ($4::text IS NULL OR responsible_id = $4) AND ($5::text IS NULL OR service_id = $5)"
        " AND ($6 OR status = 'running')"
        " AND ($7::text IS NULL OR ($7 = 'overdue' AND status = 'running' AND due_at < $8)"
        "      OR ($7 = 'today' AND status = 'running' AND due_at >= $8 AND due_at <= $9))"
        " ORDER BY due_at LIMIT $10",
        _office_of(actor.role, actor.site),
        application_id,
        case_id,
        responsible_id,
        service_id,
        include_done,
        due,
        now,
        day_end,
        limit,
    )
    if (application_id or case_id) and not rows and include_done:
        raise NotFound("no deadlines for that case in your registry office")
    async with pool.acquire() as conn:
        site_clock = await terms.load(conn)
    return [_view(r, now, site_clock) for r in rows]


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
    pool: PoolDep,
    actor: ActorDep,
    date_from: Annotated[dt.date, Query(alias="from")],
    date_to: Annotated[dt.date, Query(alias="to")],
    registry_office_id: Annotated[str | None, Query(max_length=100)] = None,
    service_id: Annotated[str | None, Query(max_length=100)] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    require_role(actor, "registry_head", "supervisor")
    if date_to < date_from:
        raise InvalidInput("`to` is before `from`", field="query.to")
    office = registry_office_id if actor.role == "supervisor" else actor.site
    rows = await pool.fetch(
        "SELECT registry_office_id, service_id, count(*) AS count,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - opened_at)) AS median_s,"
        " percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - opened_at)) AS p90_s,"
        " avg(CASE WHEN completed_at <= review_due_at THEN 1.0 ELSE 0.0 END) AS on_time_share"
        " FROM cases WHERE completed_at IS NOT NULL AND completed_at >= $1 AND completed_at < $2"
        " AND ($3::text IS NULL OR registry_office_id = $3) AND ($4::text IS NULL OR service_id = $4)"
        " GROUP BY registry_office_id, service_id ORDER BY registry_office_id, service_id",
        dt.datetime.combine(date_from, dt.time.min, tzinfo=ALMATY),
        dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=ALMATY),
        office,
        service_id,
    )
    items = [
        {
            "registry_office_id": r["registry_office_id"],
            "service_id": r["service_id"],
            "count": r["count"],
            "median_seconds_to_result": round(r["median_s"]),
            "p90_seconds_to_result": round(r["p90_s"]),
            "share_on_time": round(float(r["on_time_share"]), 4),
        }
        for r in rows
    ]
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer,
            fieldnames=[
                "registry_office_id",
                "service_id",
                "count",
                "median_seconds_to_result",
                "p90_seconds_to_result",
                "share_on_time",
            ],
        )
        writer.writeheader()
        writer.writerows(items)
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="statistics-{date_from}-{date_to}.csv"'},
        )
    return {"from": date_from, "to": date_to, "items": items}
