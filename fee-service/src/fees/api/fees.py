"""HTTP API: the fee decisions of an application."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel

from btkernel import problem_docs, problems
from btkernel.service import ActorDep, ApplicationIdQuery, PoolDep
from fees.adapters.store import PgStore
from fees.app.decisions import visible_decisions
from fees.domain.assessment import format_mrp, format_tenge
from fees.domain.decision import FeeDecision

router = APIRouter(prefix="/api/v1", tags=["fees"])


class FeeDecisionOut(BaseModel):
    decision_id: str
    application_id: str
    kind: str
    service_id: str
    assessed_on: dt.date
    assessed_at: dt.datetime
    payable: bool
    amount_mrp: str
    # Hundredths of `currency` (ADR 0039): tiyn of tenge, or tyiyn of som for a Kyrgyz edition.
    amount_tiyn: int
    # The amount in whole units of `currency` with two decimals (the name predates som).
    amount_tenge: str
    currency: str
    mrp_value_tiyn: int | None
    mrp_valid_from: dt.date | None
    basis: str

    @classmethod
    def of(cls, d: FeeDecision) -> FeeDecisionOut:
        return cls(
            decision_id=d.decision_id,
            application_id=d.application_id,
            kind=d.kind,
            service_id=d.service_id,
            assessed_on=d.assessed_on,
            assessed_at=d.assessed_at,
            payable=d.payable,
            amount_mrp=format_mrp(d.amount_mrp),
            amount_tiyn=d.amount_tiyn,
            amount_tenge=format_tenge(d.amount_tiyn),
            currency=d.currency,
            mrp_value_tiyn=d.mrp_value_tiyn,
            mrp_valid_from=d.mrp_valid_from,
            basis=d.basis,
        )


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
    async with pool.acquire() as conn:
        visible = await visible_decisions(PgStore(conn), application_id, role=actor.role, site=actor.site)
    # Out of scope reads as unknown (see visible_decisions).
    if not visible:
        raise problems.NotFound(
            f"no fee decision for application {application_id}", field="query.application_id"
        )
    return FeeDecisionList(application_id=application_id, items=[FeeDecisionOut.of(d) for d in visible])
