"""Applications: submit (receipt or refusal receipt), list, status, timeline, hand-over."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from btkernel import clock, eventstore, idempotency
from btkernel.context import Actor
from btkernel.problems import NotFound
from btkernel.service import ActorDep, ContextDep, PoolDep, require_role
from intake.adapters import store
from intake.api.schemas import (
    ApplicationAccepted,
    ApplicationView,
    HandOver,
    SubmitApplication,
    TimelineEntry,
)
from intake.app import handover as handover_case
from intake.app.submit import submit

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])
REGISTRY_ROLES = ("registry_chancellery", "registry_head", "registry_executive", "registry_worker")
READ_ROLES = ("centre_operator", "portal", "supervisor", *REGISTRY_ROLES)
SUBMIT_ROLES = ("centre_operator", "registry_chancellery", "registry_worker", "portal")
# Who hands a result over: the centre operator, or at the office the chancellery — the executive at a marriage
# ceremony (S002/App.2 p.5(7)) and in annulment (S002/App.10 p.5(5)).
HANDOVER_ROLES = ("centre_operator", *REGISTRY_ROLES)


def _now() -> dt.datetime:
    return clock.now()


def ensure_visible(row: object, actor: Actor, application_id: str) -> None:
    # A site sees only the applications it accepted (an office: also those for it); the portal only portal
    # applications. 404 rather than 403 so ids of other sites leak nothing.
    if row is None or not _sees(row, actor):
        raise NotFound(f"no application {application_id} at your site")


def _sees(row: Any, actor: Actor) -> bool:
    if actor.role == "supervisor":
        return True
    if actor.role == "portal":
        return bool(row["channel"] == "portal")
    if actor.role == "centre_operator":
        return bool(row["centre_id"] == actor.site)
    return actor.site in (row["centre_id"], row["registry_office_id"])


@router.post(
    "",
    status_code=201,
    response_model=ApplicationAccepted,
    summary="Accept an application: issue a receipt, or a refusal receipt for an incomplete package",
)
async def submit_application(
    body: SubmitApplication,
    pool: PoolDep,
    actor: ActorDep,
    ctx: ContextDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    require_role(actor, *SUBMIT_ROLES)
    key = idempotency.validate_key(idempotency_key)
    scope = f"applications:{actor.site}"
    req_hash = idempotency.request_hash(body.model_dump(mode="json"))
    async with pool.acquire() as conn, conn.transaction():
        if key is not None:
            stored = await idempotency.lookup(conn, scope, key, req_hash)
            if stored is not None:
                return JSONResponse(
                    stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
                )
        status, response = await submit(conn, body, actor, ctx, _now())
        if key is not None:
            await idempotency.store(conn, scope, key, req_hash, status, response)
    return JSONResponse(response, status_code=status)


@router.get("", response_model=list[ApplicationView], summary="Applications of the operator's centre")
async def list_applications(
    pool: PoolDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]+$")] = None,
    applicant_iin: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ApplicationView]:
    require_role(actor, *READ_ROLES)
    site = actor.site if actor.role not in ("supervisor", "portal") else None
    rows = await pool.fetch(
        "SELECT * FROM applications WHERE ($1::text IS NULL OR centre_id=$1 OR registry_office_id=$1)"
        " AND ($2::text IS NULL OR status=$2) AND ($3::text IS NULL OR applicant_iin=$3)"
        " AND ($5::text IS NULL OR channel=$5) ORDER BY submitted_at DESC LIMIT $4",
        site,
        status,
        applicant_iin,
        limit,
        "portal" if actor.role == "portal" else None,
    )
    rows = [r for r in rows if _sees(r, actor)]
    return [ApplicationView(**dict(r)) for r in rows]


@router.get("/{application_id}", response_model=ApplicationView, summary="An application's status")
async def get_application(application_id: str, pool: PoolDep, actor: ActorDep) -> ApplicationView:
    require_role(actor, *READ_ROLES)
    async with pool.acquire() as conn:
        row = await store.get(conn, application_id)
    ensure_visible(row, actor, application_id)
    assert row is not None
    return ApplicationView(**dict(row))


@router.get(
    "/{application_id}/timeline",
    response_model=list[TimelineEntry],
    summary="Every event of the application, oldest first",
)
async def timeline(application_id: str, pool: PoolDep, actor: ActorDep) -> list[TimelineEntry]:
    require_role(actor, *READ_ROLES)
    async with pool.acquire() as conn:
        row = await store.get(conn, application_id)
        ensure_visible(row, actor, application_id)
        events = await eventstore.load(conn, application_id)
    return [TimelineEntry(**e.history_entry()) for e in events]


@router.post(
    "/{application_id}/handover",
    response_model=ApplicationView,
    summary="Hand the result over against the receipt and an identity document",
)
async def hand_over(
    application_id: str, body: HandOver, pool: PoolDep, actor: ActorDep, ctx: ContextDep
) -> ApplicationView:
    require_role(actor, *HANDOVER_ROLES)
    async with pool.acquire() as conn, conn.transaction():
        row = await store.get(conn, application_id)
        ensure_visible(row, actor, application_id)
        # The result is handed over where it waits: the accepting centre, or the office (desk and portal).
        if row is None or row["centre_id"] != actor.site:
            raise NotFound(f"the result of application {application_id} is not handed over at your site")
        await handover_case.hand_over(conn, application_id, body, actor, ctx, _now())
        row = await store.get(conn, application_id)
    assert row is not None
    return ApplicationView(**dict(row))
