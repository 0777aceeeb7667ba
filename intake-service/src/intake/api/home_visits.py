"""Home visits through the API (S004 p.13): the 1414 contact centre's request, assignment to a worker, cancelling;
the acceptance at home is the application submitted with `home_visit_id` (ADR 0037)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from btkernel import clock, problem_docs
from btkernel.bounded import Code, Id, Name, Place, Reason, ShortText
from btkernel.service import ActorDep
from intake.api.deps import UowDep
from intake.app import home_visits as use
from intake.domain import home_visit as rules

router = APIRouter(prefix="/api/v1/home-visits", tags=["home visits"])


def _now() -> dt.datetime:
    return clock.now()


class VisitRequestIn(BaseModel):
    """A request the contact centre 1414 took: who, where, why, for which service, and which site goes."""

    model_config = ConfigDict(extra="forbid")

    site_id: Code = Field(examples=["almaty-con-1"])
    contact_centre_ref: ShortText = Field(
        description="the 1414 request's number", examples=["1414-2026-000123"]
    )
    applicant_name: ShortText
    # An IIN (12 digits) or, at a Kyrgyz site, a PIN (14): judged by the site's country (ADR 0039).
    applicant_iin: str | None = Field(None, pattern=r"^[0-9]{12}([0-9]{2})?$")
    phone: str = Field(pattern=r"^\+?[0-9]{10,15}$", examples=["+77011234567"])
    address: Place
    reason: Literal["self_care", "mobility", "orientation"] = Field(
        description="the loss S004 p.13 names: of self-care, of moving, of orientation"
    )
    service_id: Code = Field(examples=["death_registration"])


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    worker_id: Name = Field(description="the user name of the site's worker who goes", examples=["operator1"])


class CancellationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class HomeVisitView(BaseModel):
    visit_id: str
    site_id: str
    status: str
    contact_centre_ref: str
    applicant_name: str
    applicant_iin: str | None
    phone: str
    address: str
    reason: str
    service_id: str
    requested_at: dt.datetime
    requested_by: str
    worker_id: str | None
    assigned_at: dt.datetime | None
    assigned_by: str | None
    accepted_at: dt.datetime | None
    application_id: str | None
    cancelled_at: dt.datetime | None
    cancel_reason: str | None


def _view(v: rules.HomeVisit) -> HomeVisitView:
    return HomeVisitView(**dataclasses.asdict(v))


@router.post(
    "", status_code=201, response_model=HomeVisitView, summary="Register a home visit requested via 1414"
)
async def request_visit(body: VisitRequestIn, uow: UowDep, actor: ActorDep) -> HomeVisitView:
    command = use.RequestVisit(**body.model_dump(), actor=actor, now=_now())
    return _view(await use.request(command, uow))


@router.get(
    "",
    response_model=list[HomeVisitView],
    summary="Home visits of the site, oldest first",
    responses=problem_docs.declare(404),  # another site's visits
)
async def list_visits(
    uow: UowDep,
    actor: ActorDep,
    site_id: Annotated[Code | None, Query()] = None,
    status: Annotated[Literal["requested", "assigned", "accepted", "cancelled"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[HomeVisitView]:
    return [_view(v) for v in await use.find(actor, site_id, status, limit, uow)]


@router.get("/{visit_id}", response_model=HomeVisitView, summary="One home visit")
async def get_visit(visit_id: Id, uow: UowDep, actor: ActorDep) -> HomeVisitView:
    return _view(await use.get(actor, visit_id, uow))


@router.post("/{visit_id}/assignment", response_model=HomeVisitView, summary="Send a worker of the site")
async def assign(visit_id: Id, body: AssignmentIn, uow: UowDep, actor: ActorDep) -> HomeVisitView:
    return _view(await use.assign(actor, visit_id, body.worker_id, _now(), uow))


@router.post("/{visit_id}/cancellation", response_model=HomeVisitView, summary="Cancel a visit not yet made")
async def cancel(visit_id: Id, body: CancellationIn, uow: UowDep, actor: ActorDep) -> HomeVisitView:
    return _view(await use.cancel(actor, visit_id, body.reason, _now(), uow))
