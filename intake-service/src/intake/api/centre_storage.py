"""Results waiting at a centre: kept one month, then returned to the registry office; a later request recalls them
within one working day (S004 p.9). The time-driven trigger is the scheduler's: it calls `due_for_return`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter

from btkernel import clock
from btkernel.service import ActorDep, ContextDep, PoolDep, require_role
from btkernel.terms import KZ_CALENDAR
from btkernel.workcal import REGISTRY_OFFICE, Term, due
from intake.adapters import store
from intake.api.applications import ensure_visible
from intake.api.schemas import ApplicationView
from intake.app.handover import load_application, save_application
from intake.domain.application import Application

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])


def _now() -> dt.datetime:
    return clock.now()


RECALL_TERM = Term(value=1, unit="working_days", acceptance_day_counted=False, source="S004 p.9")


def recall_due(at: dt.datetime) -> dt.datetime:
    """Within one working day of the request, counted in the registry office's days (S004 p.9)."""
    return due(at, RECALL_TERM, REGISTRY_OFFICE, KZ_CALENDAR)


async def _act(application_id: str, pool: Any, actor: Any, ctx: Any, command: Any) -> ApplicationView:
    require_role(actor, "centre_operator")
    async with pool.acquire() as conn, conn.transaction():
        ensure_visible(await store.get(conn, application_id), actor, application_id)
        app: Application = await load_application(conn, application_id)
        now = _now()
        command(app, now)
        await save_application(conn, app, ctx, now)
        row = await store.get(conn, application_id)
    assert row is not None
    return ApplicationView(**dict(row))


@router.post(
    "/{application_id}/return-to-registry",
    response_model=ApplicationView,
    summary="Hand an uncollected result, kept one month, to the registry office (S004 p.9)",
)
async def return_to_registry(
    application_id: str, pool: PoolDep, actor: ActorDep, ctx: ContextDep
) -> ApplicationView:
    return await _act(
        application_id, pool, actor, ctx, lambda a, now: a.return_to_registry(by=actor.id, at=now)
    )


@router.post(
    "/{application_id}/recall",
    response_model=ApplicationView,
    summary="The applicant came later: ask the office for the result, due within one working day (S004 p.9)",
)
async def recall(application_id: str, pool: PoolDep, actor: ActorDep, ctx: ContextDep) -> ApplicationView:
    return await _act(
        application_id,
        pool,
        actor,
        ctx,
        lambda a, now: a.request_recall(by=actor.id, at=now, due_at=recall_due(now)),
    )


@router.post(
    "/{application_id}/recalled",
    response_model=ApplicationView,
    summary="The recalled result is back at the centre, ready for pickup again",
)
async def recalled(application_id: str, pool: PoolDep, actor: ActorDep, ctx: ContextDep) -> ApplicationView:
    return await _act(
        application_id, pool, actor, ctx, lambda a, now: a.receive_recalled(by=actor.id, at=now)
    )
