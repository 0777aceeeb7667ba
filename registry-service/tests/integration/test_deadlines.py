"""Deadlines projected from case events on real PostgreSQL, on the real working calendar: step terms in the
office's working time (the lunch break), the review term in working days, a decree moving them at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from btdeploy.samples import birth_application
from btkernel import db
from btkernel.context import new_context
from btkernel.envelope import Envelope
from btkernel.testing import actor_headers, serve
from civreg.calendar import ALMATY
from civreg.events.application import ApplicationForwarded
from civreg.events.case import (
    ActRegistered,
    CaseOpened,
    CaseRegisteredInChancellery,
    RegistrationDateAssigned,
    ResolutionImposed,
    ReviewExtended,
    ThirdPartyNotified,
)
from civreg.events.notification import NotificationDelivered
from registry.adapters.unit_of_work import PgRegistryUnitOfWork
from registry.app import deadline_projector as projector
from registry.app.cases import open_case
from registry.main import build_app
from registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

OFFICE = "almaty-almaly"
SUPERVISOR = actor_headers("supervisor", "supervisor")
HEAD = actor_headers("head1", "registry_head", OFFICE)
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY)


@pytest.fixture
async def registry(
    make_database: Any, clock_at: Callable[[dt.datetime], None]
) -> AsyncIterator[tuple[httpx.AsyncClient, asyncpg.Pool]]:
    dsn = await make_database("deadlines")
    settings = RegistrySettings(
        database_url=dsn, relay_enabled=False, consumers_enabled=False, scheduler_enabled=False
    )
    pool = await db.create_pool(dsn)
    async with serve(lambda: build_app(settings)) as client:
        # The cases below are opened on fixed dates; times left are read on those dates too, never on today's.
        clock_at(MONDAY_10)
        yield client, pool
    await pool.close()


async def _project(pool: asyncpg.Pool, case_id: str, event: Any, at: dt.datetime) -> None:
    env = Envelope.new(
        type=event.TYPE,
        source="/registry",
        subject=case_id,
        data=event.to_data(),
        correlation_id="c",
        causation_id=None,
        time=at,
    )
    async with pool.acquire() as conn, conn.transaction():
        await projector.on_case_event(PgRegistryUnitOfWork.on(conn), env)


async def _open(
    pool: asyncpg.Pool, submitted: dt.datetime, centre: str = "almaty-con-1", office: str = OFFICE
) -> CaseOpened:
    body = birth_application(born=submitted.date() - dt.timedelta(days=1))
    forwarded = ApplicationForwarded(
        application_id=f"app-{submitted.timestamp()}",
        service_id="birth_registration",
        channel="state_corporation",
        centre_id=centre,
        registry_office_id=office,
        submitted_at=submitted,
        forwarded_at=submitted,
        receipt_number="R-1",
        applicant=body["applicant"],
        details=body["details"],
        documents=[],
    )
    async with pool.acquire() as conn, conn.transaction():
        case = await open_case(PgRegistryUnitOfWork.on(conn), forwarded, new_context(), submitted)
    assert case.opened is not None
    await _project(pool, case.id, case.opened, submitted)
    return case.opened


async def _due(pool: asyncpg.Pool, case_id: str) -> dict[str, tuple[dt.datetime, str]]:
    rows = await pool.fetch("SELECT kind, due_at, status FROM deadlines WHERE case_id = $1", case_id)
    return {r["kind"]: (r["due_at"].astimezone(ALMATY), r["status"]) for r in rows}


async def test_review_and_step_terms_on_the_working_calendar(
    registry: tuple[httpx.AsyncClient, asyncpg.Pool], clock_at: Callable[[dt.datetime], None]
) -> None:
    client, pool = registry
    opened = await _open(pool, MONDAY_10)
    due = await _due(pool, opened.case_id)
    # S002/App.1 p.5(3): 1 working day, the day of acceptance not counted → the end of Tuesday's office day.
    assert due["review"] == (dt.datetime(2026, 11, 24, 17, 30, tzinfo=ALMATY), "running")
    # S002/App.1 p.5(1): 20 minutes of the office's working time.
    assert due["step:1"] == (dt.datetime(2026, 11, 23, 10, 20, tzinfo=ALMATY), "running")

    # The chancellery registers at 12:00: step 1 was late (met_late); the head's 2 working hours run over the
    # 13:00–14:30 break (S004 p.8(1)) → 15:30.
    noon = dt.datetime(2026, 11, 23, 12, 0, tzinfo=ALMATY)
    await _project(
        pool,
        opened.case_id,
        CaseRegisteredInChancellery(case_id=opened.case_id, registered_at=noon, registered_by="ch"),
        noon,
    )
    due = await _due(pool, opened.case_id)
    assert due["step:1"][1] == "met_late"
    assert due["step:2"] == (dt.datetime(2026, 11, 23, 15, 30, tzinfo=ALMATY), "running")

    # The head assigns at 15:00: the executive's step runs to the resolution's execution deadline.
    three = dt.datetime(2026, 11, 23, 15, 0, tzinfo=ALMATY)
    await _project(
        pool,
        opened.case_id,
        ResolutionImposed(
            case_id=opened.case_id,
            imposed_at=three,
            imposed_by="head1",
            executive_id="executive1a",
            instruction="x",
            execution_due_at=opened.review_due_at,
        ),
        three,
    )
    due = await _due(pool, opened.case_id)
    assert due["step:2"][1] == "met"
    assert due["step:3"][0] == due["review"][0]
    # Read at 15:00 on Monday: to Tuesday 17:30 are 26.5 calendar hours, of which 2.5 + 7 are working hours.
    clock_at(three)
    mine = await client.get("/api/v1/deadlines", params={"responsible_id": "executive1a"}, headers=HEAD)
    assert [d["kind"] for d in mine.json()] == ["step:3"]
    left = mine.json()[0]
    assert 0 < left["working_seconds_left"] < left["seconds_left"]
    assert abs(left["seconds_left"] - 26.5 * 3600) < 600
    assert abs(left["working_seconds_left"] - 9.5 * 3600) < 600

    # A decree makes Tuesday a day off: the review term moves to Wednesday at once, in the worklist too.
    r = await client.post(
        "/api/v1/calendar/overrides",
        headers=SUPERVISOR,
        json={
            "country": "KZ",
            "day": "2026-11-24",
            "kind": "day_off",
            "reason": "transfer of a day off",
            "source": "Government decree (test)",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["recomputed_deadlines"] >= 1
    due = await _due(pool, opened.case_id)
    assert due["review"][0] == dt.datetime(2026, 11, 25, 17, 30, tzinfo=ALMATY)
    case_row = await pool.fetchrow("SELECT review_due_at FROM cases WHERE case_id = $1", opened.case_id)
    assert case_row["review_due_at"].astimezone(ALMATY) == due["review"][0]
    days = await client.get(
        "/api/v1/sites/almaty-almaly/working-days",
        headers=HEAD,
        params={"from": "2026-11-23", "to": "2026-11-25"},
    )
    assert [d["working"] for d in days.json()] == [True, False, True]
    assert days.json()[0]["hours"] == [["09:00", "13:00"], ["14:30", "17:30"]]
    withdrawn = await client.delete("/api/v1/calendar/overrides/KZ/2026-11-24", headers=SUPERVISOR)
    assert withdrawn.status_code == 200
    assert (await _due(pool, opened.case_id))["review"][0] == dt.datetime(2026, 11, 24, 17, 30, tzinfo=ALMATY)


async def test_a_case_opened_before_a_holiday_skips_it(
    registry: tuple[httpx.AsyncClient, asyncpg.Pool],
) -> None:
    _, pool = registry
    # Tuesday 15 Dec 2026; 16 Dec is Independence Day: 1 working day → Thursday 17 Dec.
    opened = await _open(pool, dt.datetime(2026, 12, 15, 11, 0, tzinfo=ALMATY))
    assert (await _due(pool, opened.case_id))["review"][0] == dt.datetime(2026, 12, 17, 17, 30, tzinfo=ALMATY)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (
            {"country": "KZ", "day": "2026-11-24", "kind": "holiday", "reason": "x y z", "source": "decree"},
            "body.kind",
        ),
        ({"country": "KZ", "day": "2026-11-24", "kind": "day_off", "reason": "x y z"}, "body.source"),
        (
            {"country": "UZ", "day": "2026-11-24", "kind": "day_off", "reason": "x y z", "source": "d"},
            "body.country",
        ),
        (
            {"country": "KZ", "day": "24.11.2026", "kind": "day_off", "reason": "x y z", "source": "decree"},
            "body.day",
        ),
    ],
)
async def test_bad_calendar_input_names_the_field(
    registry: tuple[httpx.AsyncClient, asyncpg.Pool], body: dict[str, str], path: str
) -> None:
    client, pool = registry
    r = await client.post("/api/v1/calendar/overrides", headers=SUPERVISOR, json=body)
    assert r.status_code == 422
    assert path in [e["path"] for e in r.json()["errors"]]
    assert await pool.fetchval("SELECT count(*) FROM calendar_overrides") == 0


async def test_only_a_supervisor_changes_the_calendar_and_unknown_sites_are_errors(
    registry: tuple[httpx.AsyncClient, asyncpg.Pool],
) -> None:
    client, _ = registry
    body = {"country": "KZ", "day": "2026-11-28", "kind": "working", "reason": "transfer", "source": "decree"}
    assert (await client.post("/api/v1/calendar/overrides", headers=HEAD, json=body)).status_code == 403
    assert (await client.post("/api/v1/calendar/overrides", headers=SUPERVISOR, json=body)).status_code == 201
    assert (await client.post("/api/v1/calendar/overrides", headers=SUPERVISOR, json=body)).status_code == 409
    r = await client.get(
        "/api/v1/sites/nowhere/working-days", headers=HEAD, params={"from": "2026-11-23", "to": "2026-11-25"}
    )
    assert r.status_code == 404
    r = await client.put(
        "/api/v1/sites/almaty-almaly/schedule-exceptions",
        headers=SUPERVISOR,
        json={"day": "2026-12-30", "hours": [["14:00", "09:00"]], "reason": "short day"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "body.hours"
    r = await client.put(
        "/api/v1/sites/almaty-almaly/schedule-exceptions",
        headers=SUPERVISOR,
        json={"day": "2026-12-30", "hours": [["09:00", "13:00"]], "reason": "short day"},
    )
    assert r.status_code == 200
    days = await client.get(
        "/api/v1/sites/almaty-almaly/working-days",
        headers=HEAD,
        params={"from": "2026-12-30", "to": "2026-12-30"},
    )
    assert days.json()[0]["hours"] == [["09:00", "13:00"]]


async def test_the_astana_pilot_adds_three_working_hours_end_to_end(
    registry: tuple[httpx.AsyncClient, asyncpg.Pool],
) -> None:
    _, pool = registry
    # S000: at the pilot centre birth is registered within 3 working hours, counted in the centre's hours
    # (09:00–20:00, no break): filed Saturday 18:30 → 1.5 h that evening, the rest on Monday from 09:00.
    saturday = dt.datetime(2026, 11, 28, 18, 30, tzinfo=ALMATY)
    opened = await _open(pool, saturday, centre="astana-yesil-con-1", office="astana-yesil")
    due = await _due(pool, opened.case_id)
    assert "pilot_total" in due, (opened.centre_id, due)
    assert due["pilot_total"][0] == dt.datetime(2026, 11, 30, 10, 30, tzinfo=ALMATY)
    ordinary = await _open(pool, saturday + dt.timedelta(minutes=1))
    assert "pilot_total" not in await _due(pool, ordinary.case_id)


async def test_an_extension_supersedes_the_review_term_and_owes_the_applicant_a_notice(
    registry: tuple[httpx.AsyncClient, asyncpg.Pool],
) -> None:
    _, pool = registry
    opened = await _open(pool, MONDAY_10)
    at = dt.datetime(2026, 11, 24, 11, 0, tzinfo=ALMATY)
    new_due = opened.review_due_at + dt.timedelta(days=30)
    await _project(
        pool,
        opened.case_id,
        ReviewExtended(
            case_id=opened.case_id,
            extended_at=at,
            extended_by="head1",
            reason="запрос в другой орган",
            days=30,
            previous_due_at=opened.review_due_at,
            review_due_at=new_due,
            applicant_notice_due_at=at + dt.timedelta(days=3),
            application_id=opened.application_id,
        ),
        at,
    )
    rows = {
        r["kind"]: r for r in await pool.fetch("SELECT * FROM deadlines WHERE case_id = $1", opened.case_id)
    }
    assert rows["review"]["status"] == "superseded"
    assert rows["review:extended"]["status"] == "running"
    assert rows["review:extended"]["due_at"] == new_due
    assert rows["review:extended"]["extension_days"] == 30
    notice = rows["extension_notice"]
    assert notice["status"] == "running"
    assert notice["due_at"] == at + dt.timedelta(days=3)
    # The applicant's mail was delivered two days later: the obligation is met.
    delivered = NotificationDelivered(
        notification_id="n1",
        application_id=opened.application_id,
        channel="email",
        recipient="a@example.kz",
        template="review_extended",
        delivered_at=at + dt.timedelta(days=2),
        attempts=1,
    )
    env = Envelope.new(
        type=delivered.TYPE,
        source="/notification",
        subject="n1",
        data=delivered.to_data(),
        correlation_id="c",
        causation_id=None,
    )
    async with pool.acquire() as conn, conn.transaction():
        await projector.on_notification_event(PgRegistryUnitOfWork.on(conn), env)
    assert (await _due(pool, opened.case_id))["extension_notice"][1] == "met"


async def test_a_divorce_with_an_imprisoned_spouse_owes_the_third_party_a_notice_within_a_week(
    registry: tuple[httpx.AsyncClient, asyncpg.Pool],
) -> None:
    _, pool = registry
    body = birth_application()
    forwarded = ApplicationForwarded(
        application_id="divorce-1",
        service_id="divorce_registration",
        channel="state_corporation",
        centre_id="almaty-con-1",
        registry_office_id=OFFICE,
        submitted_at=MONDAY_10,
        forwarded_at=MONDAY_10,
        receipt_number="R-9",
        applicant=body["applicant"],
        details={"variant": "spouse_missing_incapacitated_or_imprisoned"},
        documents=[],
    )
    async with pool.acquire() as conn, conn.transaction():
        case = await open_case(PgRegistryUnitOfWork.on(conn), forwarded, new_context(), MONDAY_10)
    assert case.opened is not None
    await _project(pool, case.id, case.opened, MONDAY_10)
    due = await _due(pool, case.id)
    # 1 week from receipt, counted in calendar days to the end of the day (S002/App.9 p.5(4)).
    assert due["third_party_notice"][0].date() == dt.date(2026, 11, 30)
    notified = dt.datetime(2026, 11, 26, 12, 0, tzinfo=ALMATY)
    await _project(
        pool,
        case.id,
        ThirdPartyNotified(
            case_id=case.id,
            notified_at=notified,
            notified_by="exec",
            party="guardian",
            notice_due_at=due["third_party_notice"][0],
        ),
        notified,
    )
    assert (await _due(pool, case.id))["third_party_notice"][1] == "met"


async def _open_service(pool: asyncpg.Pool, service_id: str, details: dict[str, Any]) -> CaseOpened:
    body = birth_application()
    forwarded = ApplicationForwarded(
        application_id=f"{service_id}-{MONDAY_10.timestamp()}",
        service_id=service_id,
        channel="desk",
        centre_id=OFFICE,
        registry_office_id=OFFICE,
        submitted_at=MONDAY_10,
        forwarded_at=MONDAY_10,
        receipt_number="R-7",
        applicant=body["applicant"],
        details=details,
        documents=[],
    )
    async with pool.acquire() as conn, conn.transaction():
        case = await open_case(PgRegistryUnitOfWork.on(conn), forwarded, new_context(), MONDAY_10)
    assert case.opened is not None
    await _project(pool, case.id, case.opened, MONDAY_10)
    return case.opened


async def test_a_marriage_review_ends_with_the_date_and_the_record_is_formed_on_that_day(
    registry: tuple[httpx.AsyncClient, asyncpg.Pool],
) -> None:
    _, pool = registry
    opened = await _open_service(pool, "marriage_registration", {})
    at = dt.datetime(2026, 11, 23, 15, 0, tzinfo=ALMATY)
    await _project(
        pool,
        opened.case_id,
        CaseRegisteredInChancellery(case_id=opened.case_id, registered_at=at, registered_by="ch"),
        at,
    )
    await _project(
        pool,
        opened.case_id,
        ResolutionImposed(
            case_id=opened.case_id,
            imposed_at=at,
            imposed_by="head1",
            executive_id="executive1a",
            instruction="x",
            execution_due_at=opened.review_due_at,
        ),
        at,
    )
    day = dt.date(2026, 12, 24)
    await _project(
        pool,
        opened.case_id,
        RegistrationDateAssigned(
            case_id=opened.case_id, assigned_at=at, assigned_by="executive1a", registration_on=day
        ),
        at,
    )
    due = await _due(pool, opened.case_id)
    # The review (1 WD, S002/App.2 p.5(3)) ended with the date: met, not "missed" a month later.
    assert due["review"][1] == "met"
    assert due["step:3"][1] == "met"
    assert due.get("step:4", (None, "met"))[1] == "met"  # done within the review, never left running
    # Forming the record (3 h, p.5(5)) runs from the opening of the assigned day: 09:00 + 3 working hours.
    assert due["step:5"] == (dt.datetime(2026, 12, 24, 12, 0, tzinfo=ALMATY), "running")


async def test_annulment_steps_follow_its_own_five_step_procedure(
    registry: tuple[httpx.AsyncClient, asyncpg.Pool],
) -> None:
    _, pool = registry
    opened = await _open_service(pool, "annulment_of_records", {})
    at = dt.datetime(2026, 11, 23, 11, 0, tzinfo=ALMATY)
    await _project(
        pool,
        opened.case_id,
        ActRegistered(
            case_id=opened.case_id,
            registered_at=at,
            registered_by="executive1a",
            record_id="r",
            record_number="n",
        ),
        at,
    )
    due = await _due(pool, opened.case_id)
    # S002/App.10 p.5: the executive's step 3 ends with the act; the head signs within 10 minutes (step 4).
    assert due["step:4"] == (dt.datetime(2026, 11, 23, 11, 10, tzinfo=ALMATY), "running")
    assert "step:5" not in due
