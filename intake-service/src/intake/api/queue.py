"""The queue at the counter through the API: bookings (portal), walk-in tickets, calls, closing, the board, and
the standards per site and day as JSON or CSV (S004 p.4, p.8; ADR 0037). The rules are `intake.app.queue`'s."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from btkernel import clock, problem_docs
from btkernel.bounded import Code, Id
from btkernel.service import ActorDep
from civreg.calendar import ALMATY
from intake.api.deps import UowDep
from intake.app import queue as use
from intake.domain import queue as rules

router = APIRouter(prefix="/api/v1/queue", tags=["queue"])

Counter = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9-]+$", examples=["3"])]


def _now() -> dt.datetime:
    return clock.now()


class BookingIn(BaseModel):
    """A slot at a service centre, booked through the portal for an applicant (S004 p.8(2))."""

    model_config = ConfigDict(extra="forbid")

    site_id: Code = Field(examples=["almaty-con-1"])
    slot_start: AwareDatetime = Field(
        description="on the quarter hour, in the centre's hours (Mon–Sat 09:00–20:00)",
        examples=["2026-03-02T10:15:00+05:00"],
    )
    applicant_iin: str = Field(pattern=r"^[0-9]{12}$")
    residence_office_id: Code = Field(
        description="the registry office of the applicant's district: the queue is by place of residence",
        examples=["almaty-almaly"],
    )
    service_id: Code | None = None


class CallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    counter: Counter


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Literal["no_show", "consultation", "left", "other"]


class TicketView(BaseModel):
    ticket_id: str
    site_id: str
    site_kind: str
    day: dt.date
    number: str
    kind: str
    due_at: dt.datetime
    issued_at: dt.datetime
    status: str
    counter: str | None
    called_at: dt.datetime | None
    finished_at: dt.datetime | None
    application_id: str | None
    close_reason: str | None


def _view(t: rules.Ticket) -> TicketView:
    return TicketView(**dataclasses.asdict(t))


@router.post(
    "/bookings",
    status_code=201,
    response_model=TicketView,
    summary="Book a slot at a service centre",
    responses=problem_docs.declare(409),  # the slot is full, or the applicant has booked that day already
)
async def book(body: BookingIn, uow: UowDep, actor: ActorDep) -> TicketView:
    command = use.Book(
        site_id=body.site_id,
        slot_start=body.slot_start,
        applicant_iin=body.applicant_iin,
        residence_office_id=body.residence_office_id,
        service_id=body.service_id,
        actor=actor,
        now=_now(),
    )
    return _view(await use.book(command, uow))


@router.post(
    "/tickets", status_code=201, response_model=TicketView, summary="Issue a walk-in ticket at the site"
)
async def walk_in(uow: UowDep, actor: ActorDep) -> TicketView:
    return _view(await use.walk_in(actor, _now(), uow))


@router.get(
    "/tickets",
    response_model=list[TicketView],
    summary="A site's queue of a day, in calling order",
    responses=problem_docs.declare(404),  # another site's queue
)
async def board(
    uow: UowDep,
    actor: ActorDep,
    site_id: Annotated[Code | None, Query()] = None,
    day: Annotated[dt.date | None, Query()] = None,
) -> list[TicketView]:
    on = day or clock.today(ALMATY)
    return [_view(t) for t in await use.board(actor, site_id, on, uow)]


@router.get("/tickets/{ticket_id}", response_model=TicketView, summary="One ticket")
async def ticket(ticket_id: Id, uow: UowDep, actor: ActorDep) -> TicketView:
    return _view(await use.get_ticket(actor, ticket_id, uow))


@router.post(
    "/calls",
    response_model=TicketView,
    summary="Call the next ticket to a counter",
    responses=problem_docs.declare(404, 409),  # nobody's turn has come; the counter is still serving someone
)
async def call_next(body: CallIn, uow: UowDep, actor: ActorDep) -> TicketView:
    return _view(await use.call_next(actor, body.counter, _now(), uow))


@router.post(
    "/tickets/{ticket_id}/close", response_model=TicketView, summary="End a call without an application"
)
async def close(ticket_id: Id, body: CloseIn, uow: UowDep, actor: ActorDep) -> TicketView:
    return _view(await use.close(actor, ticket_id, body.reason, _now(), uow))


@router.get(
    "/standards",
    summary="Per site and day: waiting and service time against S004 p.4(2)-(3) (count, median, p90, share)",
    response_model=None,
    responses={
        200: {
            "description": "the figures as JSON, or as CSV with `format=csv`",
            "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def standards(
    uow: UowDep,
    actor: ActorDep,
    date_from: Annotated[dt.date, Query(alias="from")],
    date_to: Annotated[dt.date, Query(alias="to")],
    site_id: Annotated[Code | None, Query()] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    rows = [d.row() for d in await use.standards(actor, date_from, date_to, site_id, uow)]
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=rules.STANDARD_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="queue-standards-{date_from}-{date_to}.csv"'
            },
        )
    return {"from": date_from, "to": date_to, "items": rows}
