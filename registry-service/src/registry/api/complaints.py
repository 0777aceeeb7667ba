"""Complaints through the API (S004 p.11-12): filed at a chancellery, a centre or through the portal, registered
with the confirmation of services.md §3.4, marked, answered or refused, escalated to the quality-control body."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from btkernel import problem_docs
from btkernel.bounded import Id, Name, Place, Reason
from btkernel.service import ActorDep, ContextDep, get_pool
from civreg.events.complaint import ComplaintApplicant, ComplaintSubject
from civreg.events.values import Contact, PersonName
from registry.adapters.complaint_unit_of_work import PgComplaintUnitOfWork
from registry.app import complaints as use_cases
from registry.app.complaints import ComplaintUnitOfWork
from registry.domain.complaint import MARKS, STATUSES

router = APIRouter(prefix="/api/v1", tags=["complaints"])


async def get_uow(request: Request) -> ComplaintUnitOfWork:
    return PgComplaintUnitOfWork(get_pool(request))


UowDep = Annotated[ComplaintUnitOfWork, Depends(get_uow)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplicantIn(_Body):
    surname: Name
    first_name: Name
    patronymic: Name | None = None
    postal_address: Place = Field(description="where the answer is sent (required, S004 p.11)")
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    phone: Annotated[str, Field(max_length=32)] | None = None


class SubjectIn(_Body):
    kind: Literal["decision", "action", "inaction"]
    body: Literal["office", "centre", "official"]
    official_name: Annotated[str, Field(max_length=200)] | None = None
    description: Reason


class ComplaintIn(_Body):
    applicant: ApplicantIn
    subject: SubjectIn
    text: Annotated[str, Field(min_length=1, max_length=8000)]
    application_id: Id | None = None
    site_id: Annotated[
        str | None, Field(max_length=64, description="portal only: the registry office or centre addressed")
    ] = None


class MarkIn(_Body):
    mark: Literal[MARKS]  # type: ignore[valid-type]
    note: Annotated[str, Field(max_length=2000)] | None = None


class AnswerIn(_Body):
    answer: Annotated[str, Field(min_length=1, max_length=8000)]
    delivery: Literal["post", "chancellery"]


class RefusalIn(_Body):
    reason: Reason


class EscalationIn(_Body):
    text: Annotated[str, Field(min_length=1, max_length=8000)]


class ComplaintView(BaseModel):
    complaint_id: str
    site_id: str
    registry_office_id: str
    channel: str
    addressee: str
    status: str
    applicant_name: str
    application_id: str | None
    escalated_from: str | None
    escalated_to: str | None
    incoming_number: str | None
    filed_at: dt.datetime
    registered_at: dt.datetime | None
    answer_due_at: dt.datetime | None
    completed_at: dt.datetime | None
    confirmation: dict[str, Any] | None
    updated_at: dt.datetime
    overdue: bool


class ComplaintDetail(ComplaintView):
    history: list[dict[str, Any]]


_DOCS = problem_docs.declare(404, 409, 422)


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintDetail,
    summary="File a complaint; at a chancellery or centre it is registered at once, with its confirmation",
    responses=problem_docs.declare(422),
)
async def file_complaint(body: ComplaintIn, uow: UowDep, actor: ActorDep, ctx: ContextDep) -> dict[str, Any]:
    a = body.applicant
    new = use_cases.NewComplaint(
        applicant=ComplaintApplicant(
            name=PersonName(surname=a.surname, first_name=a.first_name, patronymic=a.patronymic),
            postal_address=a.postal_address,
            contact=Contact(email=a.email, phone=a.phone) if a.email or a.phone else None,
        ),
        subject=ComplaintSubject(**body.subject.model_dump()),
        text=body.text,
        application_id=body.application_id,
        site_id=body.site_id,
    )
    c, _ = await use_cases.file(uow, actor, ctx, new)
    return await use_cases.detail(uow, c.id, actor)


@router.get(
    "/complaints", response_model=list[ComplaintView], summary="Complaints of the site, most urgent first"
)
async def list_complaints(
    uow: UowDep,
    actor: ActorDep,
    status: Annotated[Literal[STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
    overdue: Annotated[bool, Query(description="only registered ones past their term")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return await use_cases.find(uow, actor, status=status, overdue=overdue, limit=limit)


@router.get(
    "/complaints/{complaint_id}", response_model=ComplaintDetail, summary="A complaint with its full history"
)
async def get_complaint(complaint_id: Id, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    return await use_cases.detail(uow, complaint_id, actor)


async def _act(command: use_cases.ComplaintCommand, uow: ComplaintUnitOfWork, ctx: Any) -> dict[str, Any]:
    await use_cases.execute(command, uow, ctx)
    return await use_cases.detail(uow, command.complaint_id, command.actor)


@router.post(
    "/complaints/{complaint_id}/registration",
    response_model=ComplaintDetail,
    summary="Register a complaint sent through the portal: incoming number and the confirmation (§3.4)",
    responses=_DOCS,
)
async def register(complaint_id: Id, uow: UowDep, actor: ActorDep, ctx: ContextDep) -> dict[str, Any]:
    return await _act(use_cases.Register(complaint_id, actor), uow, ctx)


@router.post(
    "/complaints/{complaint_id}/marks",
    response_model=ComplaintDetail,
    summary="An execution mark (passed to the executive, under review, ...)",
    responses=_DOCS,
)
async def mark(
    complaint_id: Id, body: MarkIn, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    return await _act(use_cases.Mark(complaint_id, actor, body.mark, body.note), uow, ctx)


@router.post(
    "/complaints/{complaint_id}/answer",
    response_model=ComplaintDetail,
    summary="The reasoned answer, sent by post or handed over in the chancellery",
    responses=_DOCS,
)
async def answer(
    complaint_id: Id, body: AnswerIn, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    return await _act(use_cases.Answer(complaint_id, actor, body.answer, body.delivery), uow, ctx)


@router.post(
    "/complaints/{complaint_id}/refusal",
    response_model=ComplaintDetail,
    summary="Refuse to review the complaint, with the reason",
    responses=_DOCS,
)
async def refuse(
    complaint_id: Id, body: RefusalIn, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    return await _act(use_cases.RefuseReview(complaint_id, actor, body.reason), uow, ctx)


@router.post(
    "/complaints/{complaint_id}/escalation",
    status_code=201,
    response_model=ComplaintDetail,
    summary="The applicant disagrees: a complaint to the quality-control body (15 working days), linked",
    responses=_DOCS,
)
async def escalate(
    complaint_id: Id, body: EscalationIn, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    second = await use_cases.escalate(uow, complaint_id, actor, ctx, body.text)
    return await use_cases.detail(uow, second.id, actor)
