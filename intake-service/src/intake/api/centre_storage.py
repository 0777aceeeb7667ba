"""Results waiting at a centre: kept one month, then returned to the registry office; a later request recalls them
within one working day (S004 p.9). The rules and the sweep are `intake.app.storage`'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from fastapi import APIRouter

from btkernel import clock
from btkernel.context import Actor, RequestContext
from btkernel.service import ActorDep, ContextDep
from intake.api.applications import view
from intake.api.deps import UowDep
from intake.api.schemas import ApplicationView
from intake.app import storage
from intake.app.unit_of_work import ApplicationRow, IntakeUnitOfWork

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])

UseCase = Callable[[storage.StorageStep, IntakeUnitOfWork], Awaitable[ApplicationRow]]


def _now() -> dt.datetime:
    return clock.now()


async def _act(
    application_id: str, uow: IntakeUnitOfWork, actor: Actor, ctx: RequestContext, use_case: UseCase
) -> ApplicationView:
    step = storage.StorageStep(application_id=application_id, actor=actor, ctx=ctx, now=_now())
    return view(await use_case(step, uow))


@router.post(
    "/{application_id}/return-to-registry",
    response_model=ApplicationView,
    summary="Hand an uncollected result, kept one month, to the registry office (S004 p.9)",
)
async def return_to_registry(
    application_id: str, uow: UowDep, actor: ActorDep, ctx: ContextDep
) -> ApplicationView:
    return await _act(application_id, uow, actor, ctx, storage.return_to_registry)


@router.post(
    "/{application_id}/recall",
    response_model=ApplicationView,
    summary="The applicant came later: ask the office for the result, due within one working day (S004 p.9)",
)
async def recall(application_id: str, uow: UowDep, actor: ActorDep, ctx: ContextDep) -> ApplicationView:
    return await _act(application_id, uow, actor, ctx, storage.request_recall)


@router.post(
    "/{application_id}/recalled",
    response_model=ApplicationView,
    summary="The recalled result is back at the centre, ready for pickup again",
)
async def recalled(application_id: str, uow: UowDep, actor: ActorDep, ctx: ContextDep) -> ApplicationView:
    return await _act(application_id, uow, actor, ctx, storage.receive_recalled)
