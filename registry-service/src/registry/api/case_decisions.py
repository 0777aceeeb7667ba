"""Decisions on a case besides the six steps: reasoned refusal, extension of the review, the registration date
(marriage), the third-party notice (divorce)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from btkernel.bounded import Id
from btkernel.service import ActorDep, ContextDep
from registry.api.cases import act_on_case
from registry.api.deps import UowDep
from registry.api.schemas import CaseDetail, DateAssignment, Extension, Refusal, ThirdPartyNotice
from registry.app import cases as use_cases

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


@router.post(
    "/{case_id}/refusal",
    response_model=CaseDetail,
    summary="The assigned executive prepares a reasoned refusal (point 10 of the Standard); the head signs it",
)
async def refusal(
    case_id: Id, body: Refusal, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    return await act_on_case(use_cases.PrepareRefusal(case_id, actor, body.reason), uow, ctx)


@router.post(
    "/{case_id}/extension",
    response_model=CaseDetail,
    summary="Extend the review once by up to 30 calendar days, with the reason (S002 §2.2)",
)
async def extension(
    case_id: Id, body: Extension, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    return await act_on_case(use_cases.ExtendReview(case_id, actor, body.reason, body.days), uow, ctx)


@router.post(
    "/{case_id}/registration-date",
    response_model=CaseDetail,
    summary="Marriage: assign the registration date agreed with the couple, not before one month from filing",
)
async def registration_date(
    case_id: Id, body: DateAssignment, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    command = use_cases.AssignRegistrationDate(case_id, actor, body.registration_on)
    return await act_on_case(command, uow, ctx)


@router.post(
    "/{case_id}/third-party-notice",
    response_model=CaseDetail,
    summary="Divorce (sentence, incapacity, absence): record the notice to the other spouse or guardian",
)
async def third_party_notice(
    case_id: Id, body: ThirdPartyNotice, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    return await act_on_case(use_cases.NotifyThirdParty(case_id, actor, body.party), uow, ctx)
