"""The queue at the counter through the gateway (S004 p.4, p.8, p.13; ADR 0037): a queue day at a service centre
with two booked and two walk-in tickets called in their one order, one producing an application (linked) and the
others closed; a live queue at a registry office, which takes no booking; the standards of that day; a home visit
requested through 1414, assigned and accepted.

Intake is restarted with its clock at the moments of the day (BT_CLOCK_OFFSET_S, as the registry in
test_month_terms): the day is the first working day of both sites at least two days ahead, so nothing depends on
today's date, and every measured interval keeps a minute or more from its standard's limit, so the seconds a
restart takes change no share."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from services_flow import CENTRE, OFFICE, Office, ok, submit

from btdeploy.e2e import Gateway, dev_user
from btdeploy.samples import birth_application
from btdeploy.stack import Stack
from btkernel import clock
from civreg.calendar import ALMATY
from civreg.terms import KZ_CALENDAR
from workcal import REGISTRY_OFFICE, SERVICE_CENTRE

pytestmark = pytest.mark.e2e

MINUTE = 1.0  # tolerance of a measured median, in minutes: restarts take seconds


@pytest.fixture
def people() -> Office:
    return Office()


@pytest.fixture
def intake_clock(stack: Stack) -> Iterator[Callable[[dt.datetime], None]]:
    """Restarts intake with its clock at a given moment, back to real time after."""
    intake = stack.service("intake")

    def shift(to: dt.datetime) -> None:
        intake.env["BT_CLOCK_OFFSET_S"] = str((to - dt.datetime.now(dt.UTC)).total_seconds())
        intake.restart()

    yield shift
    intake.env.pop("BT_CLOCK_OFFSET_S", None)
    intake.restart()


def _queue_day() -> dt.date:
    """The first day, two or more ahead, on which both the centre and the office are open."""
    day = clock.today(ALMATY) + dt.timedelta(days=2)
    while not (REGISTRY_OFFICE.hours_on(day, KZ_CALENDAR) and SERVICE_CENTRE.hours_on(day, KZ_CALENDAR)):
        day += dt.timedelta(days=1)
    return day


async def _call(gw: Gateway, user: Any, counter: str, status: int = 200) -> dict[str, Any]:
    return ok(await gw.as_(user, "POST", "/api/v1/queue/calls", json={"counter": counter}), status)


async def _close(gw: Gateway, user: Any, ticket: dict[str, Any], reason: str) -> dict[str, Any]:
    path = f"/api/v1/queue/tickets/{ticket['ticket_id']}/close"
    return ok(await gw.as_(user, "POST", path, json={"reason": reason}))


async def _walk_in(gw: Gateway, user: Any) -> dict[str, Any]:
    return ok(await gw.as_(user, "POST", "/api/v1/queue/tickets"), 201)


async def test_a_queue_day_at_a_centre_and_an_office_and_its_standards(
    gateway: Gateway, people: Office, intake_clock: Callable[[dt.datetime], None]
) -> None:
    day = _queue_day()

    def at(hh: int, mm: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=ALMATY)

    async def move(hh: int, mm: int) -> None:
        await asyncio.to_thread(intake_clock, at(hh, mm))

    # Before the day: the portal books two slots at the centre of the applicants' district.
    def booking(slot: dt.datetime, iin: str, site_id: str = CENTRE) -> dict[str, Any]:
        return {
            "site_id": site_id,
            "slot_start": slot.isoformat(),
            "applicant_iin": iin,
            "residence_office_id": OFFICE,
        }

    book = "/api/v1/queue/bookings"
    b1 = ok(await gateway.as_(people.portal, "POST", book, json=booking(at(9, 15), "960214400011")), 201)
    b2 = ok(await gateway.as_(people.portal, "POST", book, json=booking(at(9, 30), "960214400022")), 201)
    assert (b1["number"], b1["kind"], b2["number"]) == ("B-001", "booked", "B-002")
    # A registry office keeps a live queue: no booking; nor a slot outside the centre's hours.
    at_office = ok(
        await gateway.as_(people.portal, "POST", book, json=booking(at(9, 15), "960214400033", OFFICE)), 422
    )
    assert (at_office["code"], at_office["errors"][0]["path"]) == (
        "no_booking_at_registry_office",
        "body.site_id",
    )
    late = ok(await gateway.as_(people.portal, "POST", book, json=booking(at(20, 0), "960214400033")), 422)
    assert late["errors"][0]["path"] == "body.slot_start"

    # 09:05: a walk-in at the centre, another at the office.
    await move(9, 5)
    w1 = await _walk_in(gateway, people.operator)
    o1 = await _walk_in(gateway, people.chancellery)
    assert (w1["number"], o1["number"], o1["site_kind"]) == ("W-003", "W-001", "registry_office")

    # 09:18: a second walk-in; the two counters call the first walk-in, then the 09:15 booking — in that order.
    await move(9, 18)
    w2 = await _walk_in(gateway, people.operator)
    assert (await _call(gateway, people.operator, "1"))["ticket_id"] == w1["ticket_id"]
    assert (await _call(gateway, people.operator, "2"))["ticket_id"] == b1["ticket_id"]
    assert (await _call(gateway, people.chancellery, "1"))["ticket_id"] == o1["ticket_id"]
    board = ok(
        await gateway.as_(people.operator, "GET", "/api/v1/queue/tickets", params={"day": day.isoformat()})
    )
    assert [t["number"] for t in board] == ["W-003", "B-001", "W-004", "B-002"]

    # 09:28: the first walk-in's application is accepted at counter 1 and linked; the booking at counter 2 was a
    # consultation; the office's call ends too. Counter 1 calls the second walk-in; the 09:30 booking is not
    # called before its slot.
    await move(9, 28)
    accepted = await submit(
        gateway, people, "state_corporation", {**birth_application(), "ticket_id": w1["ticket_id"]}
    )
    served = ok(await gateway.as_(people.operator, "GET", f"/api/v1/queue/tickets/{w1['ticket_id']}"))
    assert (served["status"], served["application_id"]) == ("served", accepted["application_id"])
    await _close(gateway, people.operator, b1, "consultation")
    await _close(gateway, people.chancellery, o1, "consultation")
    assert (await _call(gateway, people.operator, "1"))["ticket_id"] == w2["ticket_id"]
    assert (await _call(gateway, people.operator, "2", status=404))["code"] == "queue_empty"

    # 09:47: the 09:30 booking is called (17 minutes late: beyond the centre's 15); the second walk-in never
    # came to the counter.
    await move(9, 47)
    assert (await _call(gateway, people.operator, "2"))["ticket_id"] == b2["ticket_id"]
    await _close(gateway, people.operator, w2, "no_show")
    await _close(gateway, people.operator, b2, "consultation")

    # The day's standards (S004 p.4(2)-(3)): the supervisor sees both sites.
    supervisor = dev_user("supervisor")
    query = {"from": day.isoformat(), "to": day.isoformat()}
    figures = ok(await gateway.as_(supervisor, "GET", "/api/v1/queue/standards", params=query))
    by_site = {row["site_id"]: row for row in figures["items"]}
    centre, office = by_site[CENTRE], by_site[OFFICE]
    assert (centre["tickets"], centre["served"], centre["closed"], centre["no_show"]) == (4, 1, 3, 1)
    # Waiting 13, 3, 10 and 17 minutes against 15; service 10, 10 and ~0 (the no-show is not service).
    assert (centre["waiting_count"], centre["waiting_standard_min"], centre["waiting_within_share"]) == (
        4,
        15,
        0.75,
    )
    assert centre["waiting_median_min"] == pytest.approx(11.5, abs=MINUTE)
    assert (centre["service_count"], centre["service_within_share"]) == (3, 1.0)
    assert centre["service_median_min"] == pytest.approx(10, abs=MINUTE)
    assert (office["site_kind"], office["waiting_standard_min"], office["waiting_within_share"]) == (
        "registry_office",
        20,
        1.0,
    )
    assert office["service_median_min"] == pytest.approx(10, abs=MINUTE)
    # The centre's operator sees its own site, as CSV too; not the office's.
    csv_answer = await gateway.as_(
        people.operator, "GET", "/api/v1/queue/standards", params={**query, "format": "csv"}
    )
    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(csv_answer.text)))
    assert (row["site_id"], row["tickets"], row["waiting_within_share"]) == (CENTRE, "4", "0.75")
    other = await gateway.as_(
        people.operator, "GET", "/api/v1/queue/standards", params={**query, "site_id": OFFICE}
    )
    assert other.status_code == 403


async def test_a_home_visit_requested_through_1414_is_assigned_and_accepted_at_home(
    gateway: Gateway, people: Office
) -> None:
    request = {
        "site_id": CENTRE,
        "contact_centre_ref": "1414-E2E-000001",
        "applicant_name": "Сапарова Алия",
        "phone": "+77011234567",
        "address": "Алматы, ул. Абая 10, кв. 5",
        "reason": "mobility",
        "service_id": "birth_registration",
    }
    visit = ok(await gateway.as_(people.portal, "POST", "/api/v1/home-visits", json=request), 201)
    assert visit["status"] == "requested"
    path = f"/api/v1/home-visits/{visit['visit_id']}"
    # The site sends its worker; the desk of an office cannot assign the centre's visit.
    foreign = await gateway.as_(people.head, "POST", f"{path}/assignment", json={"worker_id": "head1"})
    assert foreign.status_code == 404
    worker = people.operator.username
    assigned = ok(
        await gateway.as_(people.operator, "POST", f"{path}/assignment", json={"worker_id": worker})
    )
    assert (assigned["status"], assigned["worker_id"]) == ("assigned", worker)
    # At home: the assigned worker accepts the documents; the application closes the visit.
    accepted = await submit(
        gateway, people, "state_corporation", {**birth_application(), "home_visit_id": visit["visit_id"]}
    )
    done = ok(await gateway.as_(people.portal, "GET", path))
    assert (done["status"], done["application_id"]) == ("accepted", accepted["application_id"])
    listed = ok(
        await gateway.as_(people.operator, "GET", "/api/v1/home-visits", params={"status": "accepted"})
    )
    assert visit["visit_id"] in [v["visit_id"] for v in listed]
