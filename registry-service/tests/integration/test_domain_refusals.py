"""What a registrar refuses, over the registry's HTTP API on real PostgreSQL (issue 7): one row per refusal, with
the status, the field path and a fragment of the reason. Applications reach the registry as the consumer opens
them (ApplicationForwarded), so the registry's own checks are tested even for what intake already refuses."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from btdeploy.samples import person
from btkernel import db
from btkernel.context import new_context
from btkernel.testing import actor_headers, serve
from civreg.events.application import ApplicationForwarded
from registry.adapters.unit_of_work import PgRegistryUnitOfWork
from registry.app.cases import open_case
from registry.app.staff import StaffMember
from registry.main import build_app
from registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

OFFICE = "almaty-almaly"
CHANCELLERY = actor_headers("ch-almaly", "registry_chancellery", OFFICE)
HEAD = actor_headers("head-almaly", "registry_head", OFFICE)
EXEC = actor_headers("exec-almaly-1", "registry_executive", OFFICE)
STAFF = {
    m.username: m
    for m in (
        StaffMember("exec-almaly-1", "registry_executive", OFFICE, True),
        StaffMember("exec-bostandyk", "registry_executive", "almaty-bostandyk", True),
        StaffMember("operator1", "centre_operator", "almaty-con-1", True),
        StaffMember("exec-gone", "registry_executive", OFFICE, False),
    )
}


class Directory:
    """The gateway's staff directory as the registry sees it."""

    async def member(self, username: str) -> StaffMember | None:
        return STAFF.get(username)


@pytest.fixture
async def registry(make_database: Any) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    dsn = await make_database("registry")
    settings = RegistrySettings(
        database_url=dsn, relay_enabled=False, consumers_enabled=False, scheduler_enabled=False
    )
    async with serve(lambda: build_app(settings, staff=Directory())) as client:
        yield client, dsn


async def _open(dsn: str, service_id: str, details: dict[str, Any], channel: str = "desk") -> str:
    now = dt.datetime.now(dt.UTC)
    applicant = person("Сейітова", "Айгүл")
    event = ApplicationForwarded(
        application_id=f"app-{uuid.uuid4()}",
        service_id=service_id,
        channel=channel,
        centre_id=OFFICE,
        registry_office_id=OFFICE,
        submitted_at=now,
        forwarded_at=now,
        receipt_number=f"R-{uuid.uuid4().hex[:8]}",
        applicant=applicant,
        details=details,
        documents=[],
    )
    conn = await db.connect(dsn)
    try:
        async with conn.transaction():
            case = await open_case(PgRegistryUnitOfWork.on(conn), event, new_context(), now)
    finally:
        await conn.close()
    return case.id


async def _under_review(client: httpx.AsyncClient, case_id: str) -> None:
    r = await client.post(f"/api/v1/cases/{case_id}/chancellery-registration", headers=CHANCELLERY)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/cases/{case_id}/resolution", json={"executive_id": "exec-almaly-1"}, headers=HEAD
    )
    assert r.status_code == 200, r.text


def _refused(r: httpx.Response, status: int, path: str, fragment: str) -> None:
    assert r.status_code == status, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["path"] for e in problem["errors"]] == [path], problem
    assert fragment in problem["errors"][0]["reason"], problem


@pytest.mark.parametrize(
    ("executive", "fragment"),
    [
        ("nobody-such", "there is no user nobody-such"),
        ("exec-bostandyk", "another registry office"),
        ("operator1", "not an executive"),
        ("exec-gone", "disabled"),
    ],
    ids=["unknown-user", "other-office", "operator", "inactive"],
)
async def test_only_an_active_executive_of_the_office_is_assigned(
    registry: tuple[httpx.AsyncClient, str], executive: str, fragment: str
) -> None:
    client, dsn = registry
    case_id = await _open(dsn, "death_registration", {"subject": person("Ахметов", "Ерлан", sex="male")})
    r = await client.post(f"/api/v1/cases/{case_id}/chancellery-registration", headers=CHANCELLERY)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/cases/{case_id}/resolution", json={"executive_id": executive}, headers=HEAD
    )
    _refused(r, 422, "body.executive_id", fragment)
    case = (await client.get(f"/api/v1/cases/{case_id}", headers=HEAD)).json()
    assert case["status"] == "registered_in_chancellery"
    assert case["executive_id"] is None


async def test_an_unknown_kind_of_record_names_query_kind(registry: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = registry
    _refused(
        await client.get("/api/v1/records", params={"kind": "dog"}, headers=EXEC), 422, "query.kind", "one of"
    )


async def test_the_same_person_is_registered_dead_once(registry: tuple[httpx.AsyncClient, str]) -> None:
    client, dsn = registry
    subject = person("Ахметов", "Ерлан", sex="male")
    first, second = [await _open(dsn, "death_registration", {"subject": subject}) for _ in range(2)]
    for case_id in (first, second):
        await _under_review(client, case_id)
    r = await client.post(f"/api/v1/cases/{first}/registration", json={}, headers=EXEC)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/cases/{second}/registration", json={}, headers=EXEC)
    _refused(r, 422, "case.details.subject.iin", "already registered")
    assert r.json()["code"] == "already_registered_dead"
    # The case is not stuck: the executive refuses it with reasons.
    r = await client.post(
        f"/api/v1/cases/{second}/refusal", json={"reason": "смерть уже зарегистрирована"}, headers=EXEC
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "refusal_prepared", r.text


@pytest.mark.parametrize(
    ("service_id", "details", "path", "fragment"),
    [
        (
            "paternity_registration",
            {"subject": {"name": {"surname": "Жұмабаев", "first_name": "Нұрсұлтан"}}},
            "case.details.birth_record_id",
            "names no record",
        ),
        (
            "paternity_registration",
            {
                "subject": {"name": {"surname": "Жұмабаев", "first_name": "Нұрсұлтан"}},
                "birth_record_id": "nope",
            },
            "case.details.birth_record_id",
            "not registered",
        ),
        ("repeat_certificates", {"record_id": "nope"}, "case.details.record_id", "not registered"),
    ],
    ids=["paternity-without-birth-record", "unknown-birth-record", "unknown-record"],
)
async def test_a_record_that_does_not_exist_is_a_422_not_a_stuck_case(
    registry: tuple[httpx.AsyncClient, str],
    service_id: str,
    details: dict[str, Any],
    path: str,
    fragment: str,
) -> None:
    client, dsn = registry
    case_id = await _open(dsn, service_id, details)
    await _under_review(client, case_id)
    r = await client.post(f"/api/v1/cases/{case_id}/registration", json={}, headers=EXEC)
    _refused(r, 422, path, fragment)
    records = await client.get("/api/v1/records", params={"name": "Жұмабаев"}, headers=EXEC)
    assert records.status_code == 200
    assert records.json() == []
    r = await client.post(f"/api/v1/cases/{case_id}/refusal", json={"reason": "записи нет"}, headers=EXEC)
    assert r.status_code == 200, r.text


async def test_divorce_of_an_imprisoned_spouse_takes_the_date_and_the_notice_in_either_order(
    registry: tuple[httpx.AsyncClient, str],
) -> None:
    client, dsn = registry
    wife, husband = person("Сейітова", "Айгүл"), person("Сейітов", "Марат", sex="male")
    details = {"variant": "spouse_missing_incapacitated_or_imprisoned", "subject": wife, "parties": [husband]}
    case_id = await _open(dsn, "divorce_registration", details, channel="portal")
    await _under_review(client, case_id)
    on = (dt.datetime.now(dt.UTC) + dt.timedelta(days=40)).date().isoformat()
    r = await client.post(
        f"/api/v1/cases/{case_id}/registration-date", json={"registration_on": on}, headers=EXEC
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "date_assigned", r.text
    r = await client.post(
        f"/api/v1/cases/{case_id}/third-party-notice", json={"party": "ИК-161"}, headers=EXEC
    )
    assert r.status_code == 200, r.text
    # The notice given after the date was told: the case goes on instead of waiting for ever.
    r = await client.post(f"/api/v1/cases/{case_id}/registration", json={}, headers=EXEC)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "act_registered", r.text
