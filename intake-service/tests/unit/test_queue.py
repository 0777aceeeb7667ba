"""The queue's rules on a fixed clock (Monday 2026-03-02, Almaty): the one calling order, booking only at centres
and only in their hours, no double booking beyond the counters, the link to the application a call produced, the
standards per site and day (S004 p.4, p.8), and home visits (S004 p.13)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from intake_commands import OPERATOR, born_yesterday, submit_command
from intake_fakes import FakeIntakeUnitOfWork

from btdeploy.samples import birth_application
from btkernel import errors
from btkernel.context import Actor
from civreg.calendar import ALMATY
from intake.app import home_visits, queue
from intake.app.submit import submit
from intake.domain import queue as rules
from intake.domain.home_visit import ACCEPTED, ASSIGNED

MONDAY = dt.date(2026, 3, 2)
SUNDAY = dt.date(2026, 3, 8)
DESK = Actor(id="chancellery1", name="Жумабекова Гульнара", role="registry_chancellery", site="almaty-almaly")
IIN = "960214400011"


def _field(error: errors.DomainError) -> str:
    """The path the problem details name (`errors[0].path`)."""
    return error.errors[0]["path"]


def at(hh: int, mm: int, day: dt.date = MONDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=ALMATY)


def _ticket(number: str, kind: str, due: dt.datetime) -> rules.Ticket:
    return rules.Ticket(
        ticket_id=number,
        site_id="almaty-con-1",
        site_kind=rules.CENTRE,
        day=MONDAY,
        number=number,
        kind=kind,
        due_at=due,
        issued_at=due,
    )


def _book(
    slot: dt.datetime, *, site_id: str = "almaty-con-1", iin: str = IIN, now: dt.datetime | None = None
) -> queue.Book:
    return queue.Book(
        site_id=site_id,
        slot_start=slot,
        applicant_iin=iin,
        residence_office_id="almaty-almaly",
        service_id=None,
        actor=Actor(id="egov-portal", name="egov.kz", role="portal"),
        now=now or at(8, 0, MONDAY - dt.timedelta(days=1)),
    )


# -- the one order --


def test_tickets_are_called_by_their_moment_bookings_at_their_slot_walk_ins_in_arrival_order() -> None:
    w1 = _ticket("W-001", rules.WALK_IN, at(9, 5))
    b1 = _ticket("B-002", rules.BOOKED, at(9, 10))
    w2 = _ticket("W-003", rules.WALK_IN, at(9, 15))
    b2 = _ticket("B-004", rules.BOOKED, at(9, 20))
    tickets = [b2, w2, b1, w1]
    called = []
    for _ in tickets:
        nxt = rules.next_in_line(tickets, at(9, 30))
        assert nxt is not None
        called.append(nxt.number)
        tickets = [dataclasses.replace(t, status=rules.CALLED) if t is nxt else t for t in tickets]
    assert called == ["W-001", "B-002", "W-003", "B-004"]


def test_a_booking_is_not_called_before_its_slot_and_wins_a_tie() -> None:
    booked = _ticket("B-001", rules.BOOKED, at(9, 30))
    walk_in = _ticket("W-002", rules.WALK_IN, at(9, 30))
    assert rules.next_in_line([booked], at(9, 29)) is None
    assert rules.next_in_line([walk_in, booked], at(9, 30)) == booked


# -- booking --


async def test_booking_at_a_registry_office_is_refused_naming_the_site() -> None:
    with pytest.raises(errors.RuleViolation) as refused:
        await queue.book(_book(at(10, 0), site_id="almaty-almaly"), FakeIntakeUnitOfWork())
    assert _field(refused.value) == "body.site_id"
    assert refused.value.code == "no_booking_at_registry_office"


@pytest.mark.parametrize(
    "slot",
    [
        at(8, 45),  # before 09:00
        at(19, 50),  # not on the quarter hour
        at(19, 45) + dt.timedelta(minutes=15),  # 20:00: the slot would end after closing
        at(10, 0, SUNDAY),  # the centre works Monday to Saturday
        at(10, 0, dt.date(2026, 3, 9)),  # Monday 9 March: the day off for 8 March
        at(10, 0, dt.date(2026, 4, 2)),  # beyond the 30 days' horizon
        dt.datetime(9999, 12, 31, 23, 45, tzinfo=ALMATY),  # the calendar's end: refused, not a 500
    ],
)
async def test_booking_outside_the_centres_hours_is_refused_naming_the_slot(slot: dt.datetime) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        await queue.book(_book(slot), FakeIntakeUnitOfWork())
    assert _field(refused.value) == "body.slot_start"


async def test_a_saturday_slot_is_booked_and_numbered_as_a_booking() -> None:
    ticket = await queue.book(_book(at(19, 45, dt.date(2026, 3, 7))), FakeIntakeUnitOfWork())
    assert (ticket.kind, ticket.number, ticket.due_at) == (
        rules.BOOKED,
        "B-001",
        at(19, 45, dt.date(2026, 3, 7)),
    )


async def test_a_slot_takes_one_booking_per_counter_and_a_past_slot_none() -> None:
    uow = FakeIntakeUnitOfWork()
    for i in range(rules.COUNTERS_PER_CENTRE):
        await queue.book(_book(at(10, 0), iin=f"96021440001{i}"), uow)
    with pytest.raises(errors.Conflict) as full:
        await queue.book(_book(at(10, 0), iin="960214400099"), uow)
    assert (_field(full.value), full.value.code) == ("body.slot_start", "slot_full")
    with pytest.raises(errors.InvalidInput) as past:
        await queue.book(_book(at(10, 0), iin="960214400098", now=at(10, 1)), uow)
    assert _field(past.value) == "body.slot_start"


async def test_the_centre_is_the_one_of_the_applicants_residence() -> None:
    book = dataclasses.replace(_book(at(10, 0)), residence_office_id="almaty-bostandyk")
    with pytest.raises(errors.InvalidInput) as refused:
        await queue.book(book, FakeIntakeUnitOfWork())
    assert _field(refused.value) == "body.residence_office_id"


# -- the counter --


async def test_an_office_issues_no_ticket_in_its_break() -> None:
    with pytest.raises(errors.RuleViolation) as closed:
        await queue.walk_in(DESK, at(13, 30), FakeIntakeUnitOfWork())
    assert closed.value.code == "site_closed"
    ticket = await queue.walk_in(DESK, at(14, 30), FakeIntakeUnitOfWork())
    assert (ticket.site_kind, ticket.number) == (rules.OFFICE, "W-001")


async def test_a_call_ends_in_the_application_it_produced_or_is_closed_and_the_day_is_measured() -> None:
    uow = FakeIntakeUnitOfWork()
    with pytest.raises(errors.NotFound) as empty:
        await queue.call_next(OPERATOR, "1", at(9, 0), uow)
    assert empty.value.code == "queue_empty"
    first = await queue.walk_in(OPERATOR, at(9, 0), uow)
    second = await queue.walk_in(OPERATOR, at(9, 5), uow)
    called = await queue.call_next(OPERATOR, "1", at(9, 10), uow)
    assert called.ticket_id == first.ticket_id
    with pytest.raises(errors.Conflict) as busy:
        await queue.call_next(OPERATOR, "1", at(9, 11), uow)
    assert busy.value.code == "counter_busy"
    # The application accepted at the counter closes the call in its own transaction.
    command = dataclasses.replace(
        submit_command(birth_application(born=born_yesterday()), now=at(9, 22)), ticket_id=first.ticket_id
    )
    accepted = await submit(command, uow)
    served = uow.queue.tickets[first.ticket_id]
    assert (served.status, served.application_id, served.finished_at) == (
        rules.SERVED,
        accepted.application_id,
        at(9, 22),
    )
    # A ticket not (or no longer) called produces no application: the whole submission is refused.
    again = dataclasses.replace(command, ticket_id=first.ticket_id)
    with pytest.raises(errors.Conflict):
        await submit(again, uow)
    assert len(uow.applications.rows) == 1
    called = await queue.call_next(OPERATOR, "1", at(9, 30), uow)
    assert called.ticket_id == second.ticket_id
    closed = await queue.close(OPERATOR, second.ticket_id, rules.NO_SHOW, at(9, 33), uow)
    assert closed.status == rules.CLOSED

    [day] = await queue.standards(OPERATOR, MONDAY, MONDAY, None, uow)
    assert (day.site_id, day.tickets, day.served, day.closed, day.no_show) == ("almaty-con-1", 2, 1, 1, 1)
    # Waiting 10 and 25 minutes against 15 at a centre; service 12 minutes (the no-show is not service).
    assert (day.waiting.count, day.waiting.median_min, day.waiting.within_share) == (2, 17.5, 0.5)
    assert day.waiting.p90_min == pytest.approx(23.5)
    assert (day.service.count, day.service.median_min, day.service.limit_min, day.service.within_share) == (
        1,
        12.0,
        15,
        1.0,
    )


async def test_the_standards_of_an_office_are_twenty_minutes_and_seen_by_its_own_staff_only() -> None:
    uow = FakeIntakeUnitOfWork()
    await queue.walk_in(DESK, at(9, 0), uow)
    await queue.call_next(DESK, "2", at(9, 19), uow)
    [day] = await queue.standards(DESK, MONDAY, MONDAY, None, uow)
    assert (day.site_kind, day.waiting.limit_min, day.waiting.within_share) == (rules.OFFICE, 20, 1.0)
    with pytest.raises(errors.Forbidden):
        await queue.standards(DESK, MONDAY, MONDAY, "almaty-con-1", uow)
    with pytest.raises(errors.InvalidInput) as backwards:
        await queue.standards(DESK, MONDAY, MONDAY - dt.timedelta(days=1), None, uow)
    assert _field(backwards.value) == "query.to"


# -- home visits --


async def test_a_home_visit_is_requested_assigned_and_accepted_by_the_assigned_worker_only() -> None:
    uow = FakeIntakeUnitOfWork()
    portal = Actor(id="egov-portal", name="egov.kz", role="portal")
    visit = await home_visits.request(
        home_visits.RequestVisit(
            site_id="almaty-con-1",
            contact_centre_ref="1414-2026-000123",
            applicant_name="Сапарова Алия",
            applicant_iin=None,
            phone="+77011234567",
            address="Алматы, ул. Абая 10, кв. 5",
            reason="mobility",
            service_id="birth_registration",
            actor=portal,
            now=at(9, 0),
        ),
        uow,
    )
    body = birth_application(born=born_yesterday())
    command = dataclasses.replace(submit_command(body, now=at(11, 0)), home_visit_id=visit.visit_id)
    with pytest.raises(errors.Conflict):  # not assigned yet
        await submit(command, uow)
    assigned = await home_visits.assign(OPERATOR, visit.visit_id, "op-2", at(9, 30), uow)
    assert (assigned.status, assigned.worker_id) == (ASSIGNED, "op-2")
    with pytest.raises(errors.Forbidden):  # op-1 was not sent
        await submit(command, uow)
    worker = dataclasses.replace(OPERATOR, id="op-2")
    accepted = await submit(dataclasses.replace(command, actor=worker), uow)
    done = uow.home_visits.rows[visit.visit_id]
    assert (done.status, done.application_id, done.accepted_at) == (
        ACCEPTED,
        accepted.application_id,
        at(11, 0),
    )
