"""HTTP API: the fee decisions of an application."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel

from btkernel import problem_docs, problems
from btkernel.service import ActorDep, ApplicationIdQuery, PoolDep, require_role
from fees import store
from fees.assessment import format_mrp

router = APIRouter(prefix="/api/v1", tags=["fees"])

REGISTRY_ROLES = ("registry_chancellery", "registry_head", "registry_executive")
READER_ROLES = ("supervisor", "centre_operator", *REGISTRY_ROLES)


class FeeDecisionOut(BaseModel):
    decision_id: str
    application_id: str
    kind: str
    service_id: str
    assessed_on: dt.date
    assessed_at: dt.datetime
    payable: bool
    amount_mrp: str
    amount_tiyn: int
    amount_tenge: str
    mrp_value_tiyn: int | None
    mrp_valid_from: dt.date | None
    basis: str


class FeeDecisionList(BaseModel):
    application_id: str
    items: list[FeeDecisionOut]


@router.get(
    "/fees",
    response_model=FeeDecisionList,
    summary="Fee decisions (state duty) of one application",
    responses=problem_docs.declare(404),
)
async def list_fees(
    pool: PoolDep,
    actor: ActorDep,
    application_id: ApplicationIdQuery,
) -> FeeDecisionList:
    require_role(actor, *READER_ROLES)
    async with pool.acquire() as conn:
        decisions = await store.decisions_for(conn, application_id)
    # Site scoping: a centre sees its applications, an office the ones forwarded to it. Out of scope reads as
    # unknown, so nobody learns that another site's application exists.
    visible = [d for d in decisions if _in_scope(d, actor.role, actor.site)]
    if not visible:
        raise problems.NotFound(
            f"no fee decision for application {application_id}", field="query.application_id"
        )
    return FeeDecisionList(
        application_id=application_id,
        items=[
            FeeDecisionOut(
                decision_id=d.decision_id,
                application_id=d.application_id,
                kind=d.kind,
                service_id=d.service_id,
                assessed_on=d.assessed_on,
                assessed_at=d.assessed_at,
                payable=d.payable,
                amount_mrp=format_mrp(d.amount_mrp),
                amount_tiyn=d.amount_tiyn,
                amount_tenge=str((Decimal(d.amount_tiyn) / 100).quantize(Decimal("0.01"))),
                mrp_value_tiyn=d.mrp_value_tiyn,
                mrp_valid_from=d.mrp_valid_from,
                basis=d.basis,
            )
            for d in visible
        ],
    )


def _in_scope(d: store.FeeDecision, role: str, site: str | None) -> bool:
    if role == "centre_operator":
        return d.centre_id == site
    if role in REGISTRY_ROLES:
        return d.registry_office_id == site
    return True
