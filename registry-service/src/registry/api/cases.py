"""The registry office's worklist and its steps on a case."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from btkernel import clock
from btkernel.bounded import CODE_MAX, Id
from btkernel.context import Actor, RequestContext
from btkernel.problems import InvalidInput
from btkernel.service import ActorDep, ContextDep
from civreg import identifiers, sites
from registry.api.deps import StaffDep, UowDep
from registry.api.schemas import CaseDetail, CaseHistoryEntry, CaseView, Registration, Resolution
from registry.app import cases as use_cases
from registry.app import queries
from registry.app.staff import StaffDirectory
from registry.app.unit_of_work import RegistryUnitOfWork
from registry.domain.case import STATUSES, time_left_to_review

router = APIRouter(prefix="/api/v1", tags=["cases"])


@router.get("/worklist", response_model=list[CaseView], summary="Open cases of the office, most urgent first")
async def worklist(
    uow: UowDep,
    actor: ActorDep,
    status: Annotated[
        str | None, Query(max_length=CODE_MAX, description="one of: " + ", ".join(STATUSES))
    ] = None,
    due: Annotated[Literal["today", "overdue"] | None, Query()] = None,
    mine: Annotated[bool, Query(description="only cases assigned to me (executives)")] = False,
    executive_id: Annotated[
        str | None,
        Query(max_length=100, description="only cases assigned to this executive (the desk's filter)"),
    ] = None,
    service_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; one of: {', '.join(STATUSES)}", field="query.status")
    return await queries.worklist(
        actor,
        uow,
        status=status,
        due=due,
        executive_id=actor.id if mine else executive_id,
        service_id=service_id,
        limit=limit,
    )


@router.get("/cases", response_model=list[CaseView], summary="Find cases of the office")
async def find_cases(
    uow: UowDep,
    actor: ActorDep,
    application_id: Annotated[str | None, Query(max_length=100)] = None,
    receipt_number: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return await queries.find_cases(
        actor, uow, application_id=application_id, receipt_number=receipt_number, limit=limit
    )


async def case_detail(actor: Actor, case_id: str, uow: RegistryUnitOfWork) -> dict[str, Any]:
    """The worklist row with the time left, the case's full history and what the actor may do on it now."""
    detail = await queries.case_detail(actor, case_id, uow)
    data = {**detail.row, **time_left_to_review(detail.row, clock.now())}
    data["history"] = [CaseHistoryEntry(**e.history_entry()) for e in detail.history]
    data["allowed_actions"] = detail.allowed_actions
    return data


async def act_on_case(
    command: use_cases.CaseCommand,
    uow: RegistryUnitOfWork,
    ctx: RequestContext,
    staff: StaffDirectory | None = None,
) -> dict[str, Any]:
    """Run one command (registry.app.cases.execute); the case as it now stands is the answer."""
    await use_cases.execute(command, uow, ctx, staff)
    return await case_detail(command.actor, command.case_id, uow)


@router.get("/cases/{case_id}", response_model=CaseDetail, summary="A case with its full history")
async def get_case(case_id: Id, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    return await case_detail(actor, case_id, uow)


@router.post(
    "/cases/{case_id}/chancellery-registration",
    response_model=CaseDetail,
    summary="Step 1: the chancellery registers the application and passes it to the head",
)
async def chancellery_registration(
    case_id: Id, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    return await act_on_case(use_cases.RegisterInChancellery(case_id, actor), uow, ctx)


@router.post(
    "/cases/{case_id}/resolution",
    response_model=CaseDetail,
    summary="Step 2: the head imposes a resolution and assigns the executive",
)
async def resolution(
    case_id: Id,
    body: Resolution,
    uow: UowDep,
    staff: StaffDep,
    actor: ActorDep,
    ctx: ContextDep,
) -> dict[str, Any]:
    command = use_cases.ImposeResolution(case_id, actor, body.executive_id, body.instruction)
    return await act_on_case(command, uow, ctx, staff)


@router.post(
    "/cases/{case_id}/registration",
    response_model=CaseDetail,
    summary="Steps 3–4: the assigned executive registers the act and forms the record",
)
async def registration(
    case_id: Id, body: Registration, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    country = sites.load().country_of(actor.site)
    if body.child_iin is not None and (found := identifiers.problem_code(body.child_iin, country)):
        # The office's country's number: a Kyrgyz office assigns a PIN, a Kazakh one an IIN (ADR 0039).
        code, reason = found
        raise InvalidInput(
            reason, errors=[{"path": "body.child_iin", "reason": reason, "type": code}], code=code
        )
    return await act_on_case(use_cases.RegisterAct(case_id, actor, body.child_iin), uow, ctx)


@router.post(
    "/cases/{case_id}/signature",
    response_model=CaseDetail,
    summary="Step 5: the head signs the result (birth: with the state-emblem seal)",
)
async def signature(case_id: Id, uow: UowDep, actor: ActorDep, ctx: ContextDep) -> dict[str, Any]:
    return await act_on_case(use_cases.SignResult(case_id, actor), uow, ctx)


@router.post(
    "/cases/{case_id}/dispatch",
    response_model=CaseDetail,
    summary="Step 6: the chancellery sends the result to the service centre",
)
async def dispatch(case_id: Id, uow: UowDep, actor: ActorDep, ctx: ContextDep) -> dict[str, Any]:
    return await act_on_case(use_cases.SendResult(case_id, actor), uow, ctx)
