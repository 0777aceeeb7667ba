"""Applications: submit (receipt or refusal receipt), list, status, timeline, hand-over."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from btkernel import clock, idempotency
from btkernel.history import audit
from btkernel.service import ActorDep, ContextDep, PoolDep
from intake.api.deps import UowDep
from intake.api.documents import refuse_pdf_on_json_route
from intake.api.schemas import (
    ApplicationAccepted,
    ApplicationView,
    HandOver,
    SubmitApplication,
    TimelineEntry,
)
from intake.app import handover as handover_case
from intake.app import queries
from intake.app.submit import Submit, submit
from intake.app.unit_of_work import ApplicationRow, Once

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])


# A receipt's number as submit makes it (`<SITE>-<year>-<sequence>`, adapters.applications), any letter case.
RECEIPT_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,79}-[0-9]{4}-[0-9]{6,9}$"


def _now() -> dt.datetime:
    return clock.now()


def view(row: ApplicationRow) -> ApplicationView:
    return ApplicationView(**dataclasses.asdict(row))


@router.post(
    "",
    status_code=201,
    response_model=ApplicationAccepted,
    summary="Accept an application: issue a receipt, or a refusal receipt for an incomplete package",
)
async def submit_application(
    body: SubmitApplication,
    uow: UowDep,
    actor: ActorDep,
    ctx: ContextDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    key = idempotency.validate_key(idempotency_key)
    once = None
    if key is not None:
        once = Once(f"applications:{actor.site}", key, idempotency.request_hash(body.model_dump(mode="json")))
    command = Submit(
        service_id=body.service_id,
        applicant=body.applicant,
        representative=body.representative,
        contact=body.contact,
        documents=body.documents,
        details=body.details,
        registry_office_id=body.registry_office_id,
        signature=body.signature,
        exemption=body.state_duty.exemption if body.state_duty else None,
        payment=body.state_duty.paid() if body.state_duty else None,
        ticket_id=body.ticket_id,
        home_visit_id=body.home_visit_id,
        actor=actor,
        ctx=ctx,
        now=_now(),
        once=once,
    )
    submitted = await submit(command, uow)
    headers = {"Idempotent-Replayed": "true"} if submitted.replayed else None
    return JSONResponse(submitted.answer(), status_code=201, headers=headers)


@router.get("", response_model=list[ApplicationView], summary="Applications of the operator's centre")
async def list_applications(
    uow: UowDep,
    actor: ActorDep,
    pool: PoolDep,
    ctx: ContextDep,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]+$")] = None,
    applicant_iin: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    receipt_number: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=RECEIPT_NUMBER_PATTERN,
            description="the number on the receipt or refusal receipt, e.g. ALMATY-CON-1-2026-000042",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ApplicationView]:
    # Numbers are printed in capitals; a number typed in small letters is the same number.
    receipt_number = receipt_number.upper() if receipt_number else None
    rows = await queries.list_applications(
        actor, uow, status=status, applicant_iin=applicant_iin, receipt_number=receipt_number, limit=limit
    )
    views = [view(r) for r in rows]
    # Audited before anything is returned: a read that cannot be recorded is not answered (ADR 0030).
    asked = {
        "status": status,
        "applicant_iin": applicant_iin,
        "receipt_number": receipt_number,
        "limit": limit,
    }
    await audit.record_read(
        pool,
        ctx,
        action="applications.search",
        query={k: v for k, v in asked.items() if v is not None},
        returned=[v.application_id for v in views],
    )
    return views


@router.get("/{application_id}", response_model=ApplicationView, summary="An application's status")
async def get_application(
    application_id: str,
    uow: UowDep,
    actor: ActorDep,
    pool: PoolDep,
    ctx: ContextDep,
    accept: Annotated[str | None, Header(alias="Accept")] = None,
) -> ApplicationView:
    # JSON only; a caller asking for a PDF is told where the receipt is (406, ADR 0033).
    refuse_pdf_on_json_route(accept, application_id)
    found = view(await queries.get_application(actor, application_id, uow))
    await audit.record_read(
        pool,
        ctx,
        action="applications.view",
        query={"application_id": application_id},
        returned=[found.application_id],
    )
    return found


@router.get(
    "/{application_id}/timeline",
    response_model=list[TimelineEntry],
    summary="Every event of the application, oldest first",
)
async def timeline(
    application_id: str, uow: UowDep, actor: ActorDep, pool: PoolDep, ctx: ContextDep
) -> list[TimelineEntry]:
    entries = [TimelineEntry(**e) for e in await queries.timeline(actor, application_id, uow)]
    await audit.record_read(
        pool,
        ctx,
        action="applications.timeline",
        query={"application_id": application_id},
        returned=[application_id] if entries else [],
    )
    return entries


@router.post(
    "/{application_id}/handover",
    response_model=ApplicationView,
    summary="Hand the result over against the receipt and an identity document",
)
async def hand_over(
    application_id: str, body: HandOver, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> ApplicationView:
    command = handover_case.HandOver(
        application_id=application_id,
        receipt_number=body.receipt_number,
        identity_document_iin=body.identity_document_iin,
        recipient=body.recipient,
        actor=actor,
        ctx=ctx,
        now=_now(),
    )
    return view(await handover_case.hand_over(command, uow))
