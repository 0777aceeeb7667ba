"""The queue's use cases: booking through the portal, walk-in tickets, calling the next ticket, closing one, the
link to the application a ticket produced, and the standards per site and day (S004 p.4, p.8; ADR 0037)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace

from btkernel.context import Actor
from btkernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from civreg import sites
from civreg.policy import Role
from civreg.terms import KZ_CALENDAR
from intake.app.queue_store import QueueUnitOfWork
from intake.domain import queue
from intake.domain.queue import Ticket
from workcal import Schedule, builtin_schedule


@dataclass(frozen=True)
class Site:
    id: str
    kind: str
    schedule: Schedule
    residence_office: str  # the district whose residents the site serves (S004 p.8(2): by place of residence)

    def day_of(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.schedule.tz).date()

    def open_hours(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The site's hours that day on its built-in schedule and Kazakhstan's public holidays. The registry's
        transfer decrees and per-day exceptions are not known to intake (as for the receipt's date,
        `intake.app.submit.planned_issue_date`)."""
        return self.schedule.opening_intervals(day, KZ_CALENDAR)


def site(site_id: str, field: str) -> Site:
    all_sites = sites.load()
    if (centre := all_sites.centre(site_id)) is not None:
        schedule = builtin_schedule(centre.schedule, timezone=centre.timezone)
        return Site(centre.id, queue.CENTRE, schedule, centre.registry_office)
    if (office := all_sites.office(site_id)) is not None:
        schedule = builtin_schedule(office.schedule, timezone=office.timezone)
        return Site(office.id, queue.OFFICE, schedule, office.id)
    raise InvalidInput(f"unknown site {site_id!r}", field=field)


def own_site(actor: Actor) -> Site:
    """The queue of the site the staff member works at."""
    if actor.site is None:
        raise Forbidden("only the staff of a site work its queue")
    return site(actor.site, "site")


def sees_site(actor: Actor, site_id: str) -> bool:
    return actor.role == Role.SUPERVISOR or actor.site == site_id


# -- booking and walk-in tickets --


@dataclass(frozen=True)
class Book:
    """A place at a centre at a slot, booked through the portal for an applicant (S004 p.8(2))."""

    site_id: str
    slot_start: dt.datetime
    applicant_iin: str
    residence_office_id: str
    service_id: str | None
    actor: Actor
    now: dt.datetime


async def book(cmd: Book, uow: QueueUnitOfWork) -> Ticket:
    where = site(cmd.site_id, "body.site_id")
    queue.booking_allowed(where.kind)
    if cmd.residence_office_id != where.residence_office:
        raise InvalidInput(
            f"the centre {where.id} serves the residents of {where.residence_office}: the electronic queue is by "
            "the applicant's place of residence (S004 p.8(2))",
            field="body.residence_office_id",
        )
    queue.check_ahead(cmd.slot_start, cmd.now)
    day = where.day_of(cmd.slot_start)
    async with uow:
        await uow.queue.lock_site_day(where.id, day)
        booked = await uow.queue.booked_in_slot(where.id, cmd.slot_start)
        queue.check_slot(cmd.slot_start, where.open_hours(day), booked)
        if await uow.queue.booked_by(where.id, day, cmd.applicant_iin):
            raise Conflict(
                "the applicant has a booking at this centre that day already",
                field="body.applicant_iin",
                code="already_booked",
            )
        ticket = await _issue(uow, where, day, queue.BOOKED, due_at=cmd.slot_start, now=cmd.now)
        await uow.queue.add(ticket, applicant_iin=cmd.applicant_iin, service_id=cmd.service_id)
        await uow.commit()
    return ticket


async def walk_in(actor: Actor, now: dt.datetime, uow: QueueUnitOfWork) -> Ticket:
    """A ticket issued at the site now: in the queue from this moment (S004 p.8: live and electronic queues)."""
    where = own_site(actor)
    day = where.day_of(now)
    queue.check_open(now, where.open_hours(day))
    async with uow:
        await uow.queue.lock_site_day(where.id, day)
        ticket = await _issue(uow, where, day, queue.WALK_IN, due_at=now, now=now)
        await uow.queue.add(ticket, applicant_iin=None, service_id=None)
        await uow.commit()
    return ticket


async def _issue(
    uow: QueueUnitOfWork, where: Site, day: dt.date, kind: str, *, due_at: dt.datetime, now: dt.datetime
) -> Ticket:
    seq = await uow.queue.next_seq(where.id, day)
    return Ticket(
        ticket_id=str(uuid.uuid4()),
        site_id=where.id,
        site_kind=where.kind,
        day=day,
        number=queue.ticket_number(kind, seq),
        kind=kind,
        due_at=due_at,
        issued_at=now,
    )


# -- the counter --


async def call_next(actor: Actor, counter: str, now: dt.datetime, uow: QueueUnitOfWork) -> Ticket:
    """The next ticket in the queue's one order (`intake.domain.queue.next_in_line`) to `counter`."""
    where = own_site(actor)
    day = where.day_of(now)
    queue.check_open(now, where.open_hours(day))
    async with uow:
        await uow.queue.lock_site_day(where.id, day)
        busy = await uow.queue.at_counter(where.id, counter)
        if busy is not None:
            raise Conflict(
                f"counter {counter} is serving ticket {busy.number}: finish it first",
                field="body.counter",
                code="counter_busy",
            )
        ticket = queue.next_in_line(await uow.queue.of_day(where.id, day), now)
        if ticket is None:
            raise NotFound("nobody is waiting whose turn has come", code="queue_empty")
        called = replace(ticket, status=queue.CALLED, counter=counter, called_at=now)
        await uow.queue.save(called)
        await uow.commit()
    return called


async def close(actor: Actor, ticket_id: str, reason: str, now: dt.datetime, uow: QueueUnitOfWork) -> Ticket:
    """A call that ends without an application: a no-show, a consultation, the applicant left."""
    async with uow:
        ticket = await _visible(uow, actor, ticket_id)
        queue.can_finish(ticket, actor.site)
        closed = replace(ticket, status=queue.CLOSED, finished_at=now, close_reason=reason)
        await uow.queue.save(closed)
        await uow.commit()
    return closed


async def link_application(
    uow: QueueUnitOfWork, actor: Actor, ticket_id: str, application_id: str, now: dt.datetime
) -> None:
    """In the submission's transaction: the called ticket produced this application (receipt or refusal
    receipt), and its service time ends now."""
    ticket = await uow.queue.get(ticket_id, for_update=True)
    if ticket is None or ticket.site_id != actor.site:
        raise InvalidInput(f"no ticket {ticket_id} in your site's queue", field="body.ticket_id")
    queue.can_finish(ticket, actor.site)
    await uow.queue.save(replace(ticket, status=queue.SERVED, finished_at=now, application_id=application_id))


async def _visible(uow: QueueUnitOfWork, actor: Actor, ticket_id: str) -> Ticket:
    ticket = await uow.queue.get(ticket_id, for_update=True)
    if ticket is None or not sees_site(actor, ticket.site_id):
        raise NotFound(f"no ticket {ticket_id} at your site")
    return ticket


async def board(actor: Actor, site_id: str | None, day: dt.date, uow: QueueUnitOfWork) -> list[Ticket]:
    """A site's tickets of a day, in the order they are called."""
    wanted = site_id or actor.site
    if wanted is None:
        raise InvalidInput("name the site", field="query.site_id")
    site(wanted, "query.site_id")
    if not sees_site(actor, wanted):
        raise NotFound(f"no queue of {wanted} for you")
    async with uow:
        tickets = await uow.queue.of_day(wanted, day)
    return sorted(tickets, key=queue.order_key)


async def get_ticket(actor: Actor, ticket_id: str, uow: QueueUnitOfWork) -> Ticket:
    async with uow:
        ticket = await uow.queue.get(ticket_id)
    if ticket is None or not (sees_site(actor, ticket.site_id) or actor.role == Role.PORTAL):
        raise NotFound(f"no ticket {ticket_id} at your site")
    return ticket


# -- the standards --


async def standards(
    actor: Actor, first: dt.date, last: dt.date, site_id: str | None, uow: QueueUnitOfWork
) -> list[queue.DayStandards]:
    """Per site and day, S004 p.4(2)-(3); a site's staff see their own site, the supervisor every site."""
    if last < first:
        raise InvalidInput("`to` is before `from`", field="query.to")
    if (last - first).days > 366:
        raise InvalidInput("at most a year at a time", field="query.to")
    if actor.role != Role.SUPERVISOR:
        if site_id not in (None, actor.site):
            raise Forbidden("a site's staff see the standards of their own site", field="query.site_id")
        site_id = actor.site
    elif site_id is not None:
        site(site_id, "query.site_id")
    async with uow:
        tickets = await uow.queue.between(first, last, site_id)
    return queue.day_standards(tickets)
