"""The worklist (`cases`) rebuilt from the case streams and the calendar (ADR 0027) equals, row for row, what the
commands wrote: a case just opened, one under review, one extended (S002 §2.2), one sent to the centre after a
decree moved its review term; a case completed before the decree is the one difference ADR 0027 accepts."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from btdeploy.samples import birth_application
from btkernel import db, eventstore, rebuild
from btkernel.context import new_context
from btkernel.envelope import Envelope
from btkernel.testing import actor_headers, serve
from civreg.calendar import ALMATY
from civreg.events.application import ApplicationForwarded
from registry.adapters.unit_of_work import PgRegistryUnitOfWork
from registry.app import deadline_projector
from registry.app.cases import open_case
from registry.app.staff import StaffMember
from registry.main import build_app
from registry.projections import PROJECTIONS
from registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

CASES = next(p for p in PROJECTIONS if p.name == "cases")
OFFICE = "almaty-almaly"
SUPERVISOR = actor_headers("supervisor", "supervisor")
CHANCELLERY = actor_headers("ch-almaly", "registry_chancellery", OFFICE)
HEAD = actor_headers("head-almaly", "registry_head", OFFICE)
EXEC = actor_headers("exec-almaly-1", "registry_executive", OFFICE)
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY)


class Directory:
    async def member(self, username: str) -> StaffMember | None:
        return (
            StaffMember(username, "registry_executive", OFFICE, True) if username == "exec-almaly-1" else None
        )


@pytest.fixture
async def registry(
    make_database: Any, clock_at: Callable[[dt.datetime], None]
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    dsn = await make_database("cases")
    settings = RegistrySettings(
        database_url=dsn, relay_enabled=False, consumers_enabled=False, scheduler_enabled=False
    )
    async with serve(lambda: build_app(settings, staff=Directory())) as client:
        clock_at(MONDAY_10)
        yield client, dsn


async def _open(dsn: str, n: int) -> str:
    body = birth_application(born=MONDAY_10.date() - dt.timedelta(days=1))
    forwarded = ApplicationForwarded(
        application_id=f"app-{n}",
        service_id="birth_registration",
        channel="state_corporation",
        centre_id="almaty-con-1",
        registry_office_id=OFFICE,
        submitted_at=MONDAY_10,
        forwarded_at=MONDAY_10,
        receipt_number=f"R-{n}",
        applicant=body["applicant"],
        details=body["details"],
        documents=[],
    )
    conn = await db.connect(dsn)
    try:
        async with conn.transaction():
            case = await open_case(PgRegistryUnitOfWork.on(conn), forwarded, new_context(), MONDAY_10)
    finally:
        await conn.close()
    return case.id


async def _steps(client: httpx.AsyncClient, case_id: str, *steps: str) -> None:
    calls: dict[str, tuple[str, dict[str, Any] | None, dict[str, str]]] = {
        "chancellery-registration": ("chancellery-registration", None, CHANCELLERY),
        "resolution": ("resolution", {"executive_id": "exec-almaly-1"}, HEAD),
        "extension": ("extension", {"reason": "a request to the archive", "days": 10}, HEAD),
        "registration": ("registration", {}, EXEC),
        "signature": ("signature", None, HEAD),
        "dispatch": ("dispatch", None, CHANCELLERY),
    }
    for step in steps:
        path, body, headers = calls[step]
        r = await client.post(f"/api/v1/cases/{case_id}/{path}", json=body, headers=headers)
        assert r.status_code == 200, (step, r.text)


async def _project_deadlines(dsn: str, case_id: str, seen: dict[str, int]) -> None:
    """What the deadline consumer (registry.deadlines) would have applied of the case's new events."""
    conn = await db.connect(dsn)
    try:
        for s in (await eventstore.load(conn, case_id))[seen.get(case_id, 0) :]:
            env = Envelope.new(
                type=s.type,
                source="/registry",
                subject=case_id,
                data=s.data,
                correlation_id="c",
                causation_id=None,
                time=s.recorded_at,
            )
            async with conn.transaction():
                await deadline_projector.on_case_event(PgRegistryUnitOfWork.on(conn), env)
            seen[case_id] = s.version
    finally:
        await conn.close()


async def _cases(dsn: str) -> dict[str, dict[str, Any]]:
    conn = await db.connect(dsn)
    try:
        return {r["case_id"]: dict(r) for r in await conn.fetch("SELECT * FROM cases")}
    finally:
        await conn.close()


async def test_cases_rebuilt_equal_the_worklist_under_the_same_calendar(
    registry: tuple[httpx.AsyncClient, str],
) -> None:
    client, dsn = registry
    opened, reviewed, extended, sent, early = [await _open(dsn, n) for n in range(5)]
    seen: dict[str, int] = {}
    await _steps(
        client, early, "chancellery-registration", "resolution", "registration", "signature", "dispatch"
    )
    await _steps(client, reviewed, "chancellery-registration", "resolution")
    await _steps(client, extended, "chancellery-registration", "resolution", "extension")
    await _steps(client, sent, "chancellery-registration", "resolution")
    for case_id in (opened, reviewed, extended, sent, early):
        await _project_deadlines(dsn, case_id, seen)
    before = await _cases(dsn)

    # A decree makes Tuesday a day off: every running review term moves a day, in the worklist at once.
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
    await _steps(client, sent, "registration", "signature", "dispatch")
    live = await _cases(dsn)
    day = dt.timedelta(days=1)
    for case_id in (opened, reviewed, extended, sent):
        assert live[case_id]["review_due_at"] == before[case_id]["review_due_at"] + day, case_id
    assert live[early]["review_due_at"] == before[early]["review_due_at"]
    assert live[sent]["completed_at"] is not None
    assert live[extended]["review_due_at"] - live[opened]["review_due_at"] == dt.timedelta(days=10)

    await rebuild.rebuild(dsn, CASES, batch=2)
    rebuilt = await _cases(dsn)
    assert set(rebuilt) == set(live)
    for case_id in (opened, reviewed, extended, sent):
        assert rebuilt[case_id] == live[case_id], case_id
    # Completed before the decree: the live row kept the term of its day, the rebuilt one counts it on the
    # calendar now (ADR 0027); nothing else differs.
    assert rebuilt[early]["review_due_at"] == live[early]["review_due_at"] + day
    assert {**rebuilt[early], "review_due_at": None} == {**live[early], "review_due_at": None}
