"""The registry office's worklist and its steps on a case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Query, Request

from btkernel import clock, eventstore
from btkernel.bounded import CODE_MAX, Id
from btkernel.context import Actor
from btkernel.events.case import ReviewExtended
from btkernel.problems import InvalidInput, NotFound
from btkernel.service import ActorDep, ContextDep, PoolDep, require_role
from registry.adapters import staff, store
from registry.api.schemas import CaseDetail, CaseHistoryEntry, CaseView, Registration, Resolution
from registry.app import cases as use_cases
from registry.domain.case import RESULT_SENT, STATUSES, Case

router = APIRouter(prefix="/api/v1", tags=["cases"])
REGISTRY_ROLES = ("registry_chancellery", "registry_head", "registry_executive", "registry_worker")


def _now() -> dt.datetime:
    return clock.now()


def _view(row: asyncpg.Record, now: dt.datetime) -> dict[str, Any]:
    data = dict(row)
    end = data["completed_at"] or now
    left = (data["review_due_at"] - end).total_seconds()
    data["overdue"] = left < 0
    data["seconds_left"] = int(left)
    return data


def _office_of(actor: Actor) -> str | None:
    return None if actor.role == "supervisor" else actor.site


@router.get("/worklist", response_model=list[CaseView], summary="Open cases of the office, most urgent first")
async def worklist(
    pool: PoolDep,
    actor: ActorDep,
    status: Annotated[
        str | None, Query(max_length=CODE_MAX, description="one of: " + ", ".join(STATUSES))
    ] = None,
    due: Annotated[Literal["today", "overdue"] | None, Query()] = None,
    mine: Annotated[bool, Query(description="only cases assigned to me (executives)")] = False,
    service_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    require_role(actor, *REGISTRY_ROLES, "supervisor")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; one of: {', '.join(STATUSES)}", field="query.status")
    now = _now()
    day_end = dt.datetime.combine(
        now.astimezone(use_cases.ALMATY).date(), dt.time(23, 59, 59), tzinfo=use_cases.ALMATY
    )
    rows = await pool.fetch(
        "SELECT * FROM cases WHERE ($1::text IS NULL OR registry_office_id=$1) AND status <> $2"
        " AND ($3::text IS NULL OR status=$3) AND ($4::text IS NULL OR executive_id=$4)"
        " AND ($5::text IS NULL OR service_id=$5)"
        " AND ($6::text IS NULL OR ($6='overdue' AND review_due_at < $7) OR ($6='today' AND review_due_at <= $8"
        "      AND review_due_at >= $7))"
        " ORDER BY review_due_at, opened_at LIMIT $9",
        _office_of(actor),
        RESULT_SENT,
        status,
        actor.id if mine else None,
        service_id,
        due,
        now,
        day_end,
        limit,
    )
    return [_view(r, now) for r in rows]


@router.get("/cases", response_model=list[CaseView], summary="Find cases of the office")
async def find_cases(
    pool: PoolDep,
    actor: ActorDep,
    application_id: Annotated[str | None, Query(max_length=100)] = None,
    receipt_number: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    require_role(actor, *REGISTRY_ROLES, "supervisor")
    rows = await pool.fetch(
        "SELECT * FROM cases WHERE ($1::text IS NULL OR registry_office_id=$1)"
        " AND ($2::text IS NULL OR application_id=$2) AND ($3::text IS NULL OR receipt_number=$3)"
        " ORDER BY opened_at DESC LIMIT $4",
        _office_of(actor),
        application_id,
        receipt_number,
        limit,
    )
    now = _now()
    return [_view(r, now) for r in rows]


async def case_detail(conn: asyncpg.Connection, case_id: str, actor: Actor) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id=$1", case_id)
    if row is None or (actor.role != "supervisor" and row["registry_office_id"] != actor.site):
        raise NotFound(f"no case {case_id} in your registry office")
    events = await eventstore.load(conn, case_id)
    data = _view(row, _now())
    data["history"] = [CaseHistoryEntry(**e.history_entry()) for e in events]
    return data


async def act_on_case(
    case_id: str, pool: Any, actor: Actor, ctx: Any, command: Callable[[Case, dt.datetime], None]
) -> dict[str, Any]:
    """One command on one case of the actor's office: load, decide, append its events, update the worklist, all in
    one transaction; the case as it now stands is the answer."""
    async with pool.acquire() as conn, conn.transaction():
        case = await use_cases.load_for(conn, case_id, actor)
        now = _now()
        command(case, now)
        extended = any(isinstance(e, ReviewExtended) for e in case.pending)
        await case.save(conn, ctx, use_cases.SOURCE)
        await store.update_case(conn, case, now, review_due_at=case.review_due_at if extended else None)
        return await case_detail(conn, case_id, actor)


@router.get("/cases/{case_id}", response_model=CaseDetail, summary="A case with its full history")
async def get_case(case_id: Id, pool: PoolDep, actor: ActorDep) -> dict[str, Any]:
    require_role(actor, *REGISTRY_ROLES, "supervisor")
    async with pool.acquire() as conn:
        return await case_detail(conn, case_id, actor)


@router.post(
    "/cases/{case_id}/chancellery-registration",
    response_model=CaseDetail,
    summary="Step 1: the chancellery registers the application and passes it to the head",
)
async def chancellery_registration(
    case_id: Id, pool: PoolDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    # The case's service decides which of the two registers (annulment: the worker, S002/App.10 p.7).
    require_role(actor, "registry_chancellery", "registry_worker")
    return await act_on_case(case_id, pool, actor, ctx, lambda c, now: c.register_in_chancellery(actor, now))


@router.post(
    "/cases/{case_id}/resolution",
    response_model=CaseDetail,
    summary="Step 2: the head imposes a resolution and assigns the executive",
)
async def resolution(
    case_id: Id, body: Resolution, request: Request, pool: PoolDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    require_role(actor, "registry_head")
    # Only an active executive of the head's own office (the case's, or load_for answers 404).
    if (directory := request.app.state.staff) is not None:
        await staff.check_executive(directory, body.executive_id, actor.site or "")
    return await act_on_case(
        case_id,
        pool,
        actor,
        ctx,
        lambda c, now: c.impose_resolution(actor, body.executive_id, body.instruction, now),
    )


@router.post(
    "/cases/{case_id}/registration",
    response_model=CaseDetail,
    summary="Steps 3–4: the assigned executive registers the act and forms the record",
)
async def registration(
    case_id: Id, body: Registration, pool: PoolDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    require_role(actor, "registry_executive")
    async with pool.acquire() as conn, conn.transaction():
        case = await use_cases.load_for(conn, case_id, actor)
        await use_cases.register_act(conn, case, actor, ctx, _now(), body.child_iin)
        return await case_detail(conn, case_id, actor)


@router.post(
    "/cases/{case_id}/signature",
    response_model=CaseDetail,
    summary="Step 5: the head signs the result (birth: with the state-emblem seal)",
)
async def signature(case_id: Id, pool: PoolDep, actor: ActorDep, ctx: ContextDep) -> dict[str, Any]:
    require_role(actor, "registry_head")
    return await act_on_case(case_id, pool, actor, ctx, lambda c, now: c.sign(actor, now))


@router.post(
    "/cases/{case_id}/dispatch",
    response_model=CaseDetail,
    summary="Step 6: the chancellery sends the result to the service centre",
)
async def dispatch(case_id: Id, pool: PoolDep, actor: ActorDep, ctx: ContextDep) -> dict[str, Any]:
    # The last step's role issues: the chancellery, or the executive in annulment and marriage.
    require_role(actor, "registry_chancellery", "registry_executive")
    return await act_on_case(case_id, pool, actor, ctx, lambda c, now: c.send_result(actor, now))
