"""Complaints on a state service (S004 p.11-12): filing and registering with an incoming number and the
confirmation of services.md §3.4, execution marks, the answer or the refusal to review, and the escalation to the
quality-control body. Each command loads the complaint, decides, and commits its events with the read-model row
in one unit of work (ADR 3); the deadline engine follows the events (registry.app.complaint_deadlines)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from btkernel import clock
from btkernel.context import Actor, RequestContext
from btkernel.errors import Forbidden, InvalidInput, NotFound
from civreg import sites
from civreg.calendar import ALMATY
from civreg.events.complaint import ComplaintApplicant, ComplaintSubject
from civreg.policy import REGISTRY_ROLES, Role
from registry.app import SOURCE
from registry.app.unit_of_work import RegistryUnitOfWork
from registry.domain.complaint import (
    CENTRE,
    PROVIDER,
    QUALITY_CONTROL,
    QUALITY_CONTROL_SITE,
    Complaint,
    answer_term,
    confirmation,
    incoming_number,
)

QUALITY_CONTROL_NAME = "Уполномоченный орган по оценке и контролю за качеством оказания государственных услуг"


class ComplaintViews(Protocol):
    """The `complaints` read model and incoming-number log (registry.adapters.complaint_views)."""

    async def next_number(self, site_id: str, year: int) -> int: ...

    async def save(self, c: Complaint, at: dt.datetime, confirmation: dict[str, Any] | None) -> None: ...

    async def row(self, complaint_id: str) -> dict[str, Any] | None: ...

    async def find(
        self,
        *,
        site_id: str | None,
        office_id: str | None,
        channel: str | None,
        status: str | None,
        overdue_at: dt.datetime | None,
        limit: int,
    ) -> list[dict[str, Any]]: ...

    async def history(self, complaint_id: str) -> list[Any]: ...


class ComplaintUnitOfWork(RegistryUnitOfWork, Protocol):
    @property
    def complaints(self) -> ComplaintViews: ...


@dataclass(frozen=True)
class NewComplaint:
    applicant: ComplaintApplicant
    subject: ComplaintSubject
    text: str
    application_id: str | None = None
    # The portal names the addressee's site; at a chancellery or centre it is the actor's own.
    site_id: str | None = None


@dataclass(frozen=True)
class Where:
    site_id: str
    registry_office_id: str
    channel: str
    addressee: str


def where_filed(actor: Actor, site_id: str | None) -> Where:
    """Where the complaint is handed in decides whom it is addressed to (S004 p.11)."""
    reference = sites.load()
    if actor.role == Role.PORTAL:
        if site_id is None:
            raise InvalidInput(
                "name the registry office or centre the complaint is addressed to", field="body.site_id"
            )
        channel = "portal"
    else:
        site_id = actor.site
        channel = "centre" if actor.role == Role.CENTRE_OPERATOR else "chancellery"
    if (office := reference.office(site_id or "")) is not None:
        return Where(office.id, office.id, channel, PROVIDER)
    if (centre := reference.centre(site_id or "")) is not None:
        return Where(centre.id, centre.registry_office, channel, CENTRE)
    raise InvalidInput(f"no registry office or centre {site_id!r}", field="body.site_id")


def _site_name_and_place(c: Complaint) -> tuple[str, str]:
    if c.addressee == QUALITY_CONTROL:
        return QUALITY_CONTROL_NAME, "по почтовому адресу заявителя"
    reference = sites.load()
    site = reference.office(c.site_id) or reference.centre(c.site_id)
    assert site is not None
    return site.name.ru, f"{site.name.ru}, {site.address}, канцелярия"


async def _register(uow: ComplaintUnitOfWork, c: Complaint, actor: Actor, now: dt.datetime) -> dict[str, Any]:
    """The next incoming number of the site and year, the answer's term on the site's working calendar."""
    site_clock = await uow.calendar.site_clock()
    due_at = site_clock.due(now, answer_term(c.addressee), c.calendar_site)
    year = now.astimezone(ALMATY).year
    number = incoming_number(year, await uow.complaints.next_number(c.site_id, year))
    name, place = _site_name_and_place(c)
    c.register(actor, number=number, due_at=due_at, answer_place=place, at=now)
    return confirmation(c, name)


async def load_for(uow: ComplaintUnitOfWork, complaint_id: str, actor: Actor) -> Complaint:
    """The complaint if the actor's site may see it; 404 otherwise (another site's ids reveal nothing)."""
    c = await uow.events.load_aggregate(Complaint, complaint_id)
    if c is None or c.filed is None or not visible(actor, c.filed.site_id, c.filed.channel):
        raise NotFound(f"no complaint {complaint_id} for you")
    return c


def visible(actor: Actor, site_id: str, channel: str) -> bool:
    if actor.role == Role.SUPERVISOR:
        return True
    if actor.role == Role.PORTAL:
        return channel == "portal"
    return actor.site == site_id


async def file(
    uow: ComplaintUnitOfWork, actor: Actor, ctx: RequestContext, new: NewComplaint
) -> tuple[Complaint, dict[str, Any] | None]:
    """Filed, and registered at once when handed in at a chancellery or centre (the applicant leaves with the
    confirmation); a portal complaint waits for the addressee's chancellery."""
    where = where_filed(actor, new.site_id)
    now = clock.now()
    c = Complaint(str(uuid.uuid4()))
    async with uow:
        c.file(
            actor,
            site_id=where.site_id,
            registry_office_id=where.registry_office_id,
            channel=where.channel,
            addressee=where.addressee,
            applicant=new.applicant,
            subject=new.subject,
            text=new.text,
            application_id=new.application_id,
            escalated_from=None,
            at=now,
        )
        given = None if actor.role == Role.PORTAL else await _register(uow, c, actor, now)
        await uow.events.save(c, ctx, SOURCE)
        await uow.complaints.save(c, now, given)
        await uow.commit()
    return c, given


@dataclass(frozen=True)
class ComplaintCommand:
    complaint_id: str
    actor: Actor

    async def run(self, c: Complaint, uow: ComplaintUnitOfWork, now: dt.datetime) -> dict[str, Any] | None:
        raise NotImplementedError


@dataclass(frozen=True)
class Register(ComplaintCommand):
    """A portal complaint (or one escalated through the portal) registered by its addressee."""

    async def run(self, c: Complaint, uow: ComplaintUnitOfWork, now: dt.datetime) -> dict[str, Any] | None:
        return await _register(uow, c, self.actor, now)


@dataclass(frozen=True)
class Mark(ComplaintCommand):
    mark: str
    note: str | None

    async def run(self, c: Complaint, uow: ComplaintUnitOfWork, now: dt.datetime) -> dict[str, Any] | None:
        c.mark(self.actor, self.mark, self.note, now)
        return None


@dataclass(frozen=True)
class Answer(ComplaintCommand):
    answer: str
    delivery: str

    async def run(self, c: Complaint, uow: ComplaintUnitOfWork, now: dt.datetime) -> dict[str, Any] | None:
        c.answer(self.actor, self.answer, self.delivery, now)
        return None


@dataclass(frozen=True)
class RefuseReview(ComplaintCommand):
    reason: str

    async def run(self, c: Complaint, uow: ComplaintUnitOfWork, now: dt.datetime) -> dict[str, Any] | None:
        c.refuse_review(self.actor, self.reason, now)
        return None


async def execute(command: ComplaintCommand, uow: ComplaintUnitOfWork, ctx: RequestContext) -> Complaint:
    async with uow:
        c = await load_for(uow, command.complaint_id, command.actor)
        now = clock.now()
        given = await command.run(c, uow, now)
        await uow.events.save(c, ctx, SOURCE)
        await uow.complaints.save(c, now, given)
        await uow.commit()
    return c


async def escalate(
    uow: ComplaintUnitOfWork, complaint_id: str, actor: Actor, ctx: RequestContext, text: str
) -> Complaint:
    """The applicant disagrees: a complaint to the quality-control body, 15 working days (S004 p.11), linked to
    the first. Sent through the portal it is delivered, and the supervisor registers it; recorded by the
    supervisor (the body's stand-in) it is registered at once."""
    if actor.role not in (Role.PORTAL, Role.SUPERVISOR):
        raise Forbidden("the quality-control body takes complaints through the portal or from the supervisor")
    now = clock.now()
    async with uow:
        first = await load_for(uow, complaint_id, actor)
        assert first.filed is not None
        second = Complaint(str(uuid.uuid4()))
        first.escalate(actor, second.id, now)
        second.file(
            actor,
            site_id=QUALITY_CONTROL_SITE,
            registry_office_id=first.filed.registry_office_id,
            channel="portal" if actor.role == Role.PORTAL else "chancellery",
            addressee=QUALITY_CONTROL,
            applicant=first.filed.applicant,
            subject=first.filed.subject,
            text=text,
            application_id=first.filed.application_id,
            escalated_from=first.id,
            at=now,
        )
        given = await _register(uow, second, actor, now) if actor.role == Role.SUPERVISOR else None
        await uow.events.save(first, ctx, SOURCE)
        await uow.events.save(second, ctx, SOURCE)
        await uow.complaints.save(first, now, None)
        await uow.complaints.save(second, now, given)
        await uow.commit()
    return second


# -- what the API shows --


async def detail(uow: ComplaintUnitOfWork, complaint_id: str, actor: Actor) -> dict[str, Any]:
    async with uow:
        row = await uow.complaints.row(complaint_id)
        if row is None or not visible(actor, row["site_id"], row["channel"]):
            raise NotFound(f"no complaint {complaint_id} for you")
        history = await uow.complaints.history(complaint_id)
    return {**row, **_overdue(row, clock.now()), "history": [e.history_entry() for e in history]}


async def find(
    uow: ComplaintUnitOfWork,
    actor: Actor,
    *,
    status: str | None,
    overdue: bool,
    limit: int,
) -> list[dict[str, Any]]:
    """The complaints of the actor's site (the portal: those sent through it; the supervisor: all), registered
    ones by their answer's due moment."""
    now = clock.now()
    site = None if actor.role in (Role.SUPERVISOR, Role.PORTAL) else actor.site
    if actor.role not in REGISTRY_ROLES and actor.role not in (
        Role.CENTRE_OPERATOR,
        Role.SUPERVISOR,
        Role.PORTAL,
    ):
        raise Forbidden(f"{actor.role} reads no complaints")
    async with uow:
        rows = await uow.complaints.find(
            site_id=site,
            office_id=None,
            channel="portal" if actor.role == Role.PORTAL else None,
            status=status,
            overdue_at=now if overdue else None,
            limit=limit,
        )
    return [{**r, **_overdue(r, now)} for r in rows]


def _overdue(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Late when the answer came (or is still running) past its due moment."""
    due = row["answer_due_at"]
    end = row["completed_at"] or now
    return {"overdue": due is not None and end > due}
