"""Decisions on a case besides the six steps: reasoned refusal, extension of the review, the registration date
(marriage), the third-party notice (divorce)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from btkernel.bounded import Id
from btkernel.service import ActorDep, ContextDep, PoolDep, require_role
from registry.api.cases import act_on_case
from registry.api.schemas import CaseDetail, DateAssignment, Extension, Refusal, ThirdPartyNotice

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


@router.post(
    "/{case_id}/refusal",
    response_model=CaseDetail,
    summary="The assigned executive prepares a reasoned refusal (point 10 of the Standard); the head signs it",
)
async def refusal(
    case_id: Id, body: Refusal, pool: PoolDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    require_role(actor, "registry_executive")
    return await act_on_case(
        case_id, pool, actor, ctx, lambda c, now: c.prepare_refusal(actor, body.reason, now)
    )


@router.post(
    "/{case_id}/extension",
    response_model=CaseDetail,
    summary="Extend the review once by up to 30 calendar days, with the reason (S002 §2.2)",
)
async def extension(
    case_id: Id, body: Extension, pool: PoolDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    require_role(actor, "registry_head", "registry_executive")
    return await act_on_case(
        case_id, pool, actor, ctx, lambda c, now: c.extend_review(actor, body.reason, body.days, now)
    )


@router.post(
    "/{case_id}/registration-date",
    response_model=CaseDetail,
    summary="Marriage: assign the registration date agreed with the couple, not before one month from filing",
)
async def registration_date(
    case_id: Id, body: DateAssignment, pool: PoolDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    require_role(actor, "registry_executive")
    return await act_on_case(
        case_id, pool, actor, ctx, lambda c, now: c.assign_registration_date(actor, body.registration_on, now)
    )


@router.post(
    "/{case_id}/third-party-notice",
    response_model=CaseDetail,
    summary="Divorce (sentence, incapacity, absence): record the notice to the other spouse or guardian",
)
async def third_party_notice(
    case_id: Id, body: ThirdPartyNotice, pool: PoolDep, actor: ActorDep, ctx: ContextDep
) -> dict[str, Any]:
    require_role(actor, "registry_executive")
    return await act_on_case(
        case_id, pool, actor, ctx, lambda c, now: c.notify_third_party(actor, body.party, now)
    )
