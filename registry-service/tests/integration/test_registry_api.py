"""The registry office's steps over HTTP on real PostgreSQL: scoping, roles, record numbers under concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from btdeploy.samples import birth_application
from btkernel import clock, db
from btkernel.context import new_context
from btkernel.testing import actor_headers, serve
from civreg.calendar import ALMATY
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
OTHER_OFFICE_HEAD = actor_headers("head-bostandyk", "registry_head", "almaty-bostandyk")


class Directory:
    """The gateway's staff directory as the registry sees it: the office's two executives."""

    async def member(self, username: str) -> StaffMember | None:
        if username in ("exec-almaly-1", "exec-almaly-2"):
            return StaffMember(username, "registry_executive", OFFICE, True)
        return None


@pytest.fixture
async def registry(make_database: Any) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    dsn = await make_database("registry")
    settings = RegistrySettings(
        database_url=dsn, relay_enabled=False, consumers_enabled=False, scheduler_enabled=False
    )
    async with serve(lambda: build_app(settings, staff=Directory())) as client:
        yield client, dsn


async def _open(dsn: str, n: int, born: dt.date | None = None) -> list[str]:
    """Open cases as the consumer would on ApplicationForwarded."""
    conn = await db.connect(dsn)
    ids = []
    try:
        for i in range(n):
            body = birth_application(born=born)
            now = dt.datetime.now(dt.UTC)
            event = ApplicationForwarded(
                application_id=f"app-{i}-{now.timestamp()}",
                service_id="birth_registration",
                channel="state_corporation",
                centre_id="almaty-con-1",
                registry_office_id=OFFICE,
                submitted_at=now,
                forwarded_at=now,
                receipt_number=f"R-{i}",
                applicant=body["applicant"],
                details=body["details"],
                documents=[],
            )
            async with conn.transaction():
                case = await open_case(PgRegistryUnitOfWork.on(conn), event, new_context(), now)
                again = await open_case(
                    PgRegistryUnitOfWork.on(conn), event, new_context(), now
                )  # redelivery: the same case
            assert again.id == case.id
            ids.append(case.id)
    finally:
        await conn.close()
    return ids


async def _to_review(client: httpx.AsyncClient, case_id: str, executive: str = "exec-almaly-1") -> None:
    r = await client.post(f"/api/v1/cases/{case_id}/chancellery-registration", headers=CHANCELLERY)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/cases/{case_id}/resolution", json={"executive_id": executive}, headers=HEAD
    )
    assert r.status_code == 200, r.text


async def test_concurrent_registrations_get_consecutive_unique_numbers(
    registry: tuple[httpx.AsyncClient, str],
) -> None:
    client, dsn = registry
    case_ids = await _open(dsn, 12)
    for cid in case_ids:
        await _to_review(client, cid)
    results = await asyncio.gather(
        *[client.post(f"/api/v1/cases/{cid}/registration", json={}, headers=EXEC) for cid in case_ids]
    )
    assert all(r.status_code == 200 for r in results), [r.text for r in results if r.status_code != 200]
    numbers = sorted(r.json()["record_number"] for r in results)
    year = clock.today(ALMATY).year  # Almaty's year: from 19:00 UTC on 31 December it is already the next one
    assert numbers == [f"{OFFICE}/birth/{year}/{i:06d}" for i in range(1, 13)]
    found = await client.get("/api/v1/records", params={"number": numbers[0]}, headers=EXEC)
    assert found.status_code == 200
    assert len(found.json()) == 1
    record = found.json()[0]
    assert record["kind"] == "birth"
    assert record["content"]["child_name"]["first_name"] == "Нұрсұлтан"
    by_parent = await client.get(
        "/api/v1/records", params={"iin": record["content"]["mother"]["iin"]}, headers=EXEC
    )
    assert record["record_id"] in [r["record_id"] for r in by_parent.json()]


async def test_full_path_and_the_rules_on_the_way(registry: tuple[httpx.AsyncClient, str]) -> None:
    client, dsn = registry
    (cid,) = await _open(dsn, 1)
    assert (await client.get(f"/api/v1/cases/{cid}", headers=OTHER_OFFICE_HEAD)).status_code == 404
    # A case's stream is not a record: its history is not readable as one (another office's applicant data).
    assert (await client.get(f"/api/v1/records/{cid}/history", headers=OTHER_OFFICE_HEAD)).status_code == 404
    early = await client.post(f"/api/v1/cases/{cid}/signature", headers=HEAD)
    assert early.status_code == 422
    assert early.json()["code"] == "wrong_step"
    assert (
        await client.post(f"/api/v1/cases/{cid}/resolution", json={"executive_id": "x"}, headers=CHANCELLERY)
    ).status_code == 403
    await _to_review(client, cid)
    other_exec = actor_headers("exec-almaly-2", "registry_executive", OFFICE)
    assert (
        await client.post(f"/api/v1/cases/{cid}/registration", json={}, headers=other_exec)
    ).status_code == 403
    bad = await client.post(f"/api/v1/cases/{cid}/registration", json={"child_iin": "123"}, headers=EXEC)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "body.child_iin"
    assert (await client.post(f"/api/v1/cases/{cid}/registration", json={}, headers=EXEC)).status_code == 200
    assert (await client.post(f"/api/v1/cases/{cid}/signature", headers=HEAD)).status_code == 200
    sent = await client.post(f"/api/v1/cases/{cid}/dispatch", headers=CHANCELLERY)
    assert sent.status_code == 200
    detail = sent.json()
    assert detail["status"] == "result_sent"
    assert [h["type"].split(".")[-2] for h in detail["history"]] == [
        "opened",
        "registered-in-chancellery",
        "resolution-imposed",
        "act-registered",
        "result-signed",
        "result-sent-to-centre",
    ]
    # Done cases leave the worklist.
    worklist = (await client.get("/api/v1/worklist", headers=HEAD)).json()
    assert cid not in [c["case_id"] for c in worklist]


async def test_worklist_is_per_office_and_most_urgent_first(registry: tuple[httpx.AsyncClient, str]) -> None:
    client, dsn = registry
    late = await _open(dsn, 1, born=clock.today(ALMATY) - dt.timedelta(days=30))  # 7 working days
    on_time = await _open(dsn, 1)  # 1 working day
    worklist = (await client.get("/api/v1/worklist", headers=CHANCELLERY)).json()
    ids = [c["case_id"] for c in worklist]
    assert ids.index(on_time[0]) < ids.index(late[0])
    terms = {c["case_id"]: c["review_term"]["value"] for c in worklist}
    assert terms[on_time[0]] == 1
    assert terms[late[0]] == 7
    assert (await client.get("/api/v1/worklist", headers=OTHER_OFFICE_HEAD)).json() == []
    bad = await client.get("/api/v1/worklist", params={"status": "nonsense"}, headers=HEAD)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "query.status"
    bad = await client.get("/api/v1/worklist", params={"due": "someday"}, headers=HEAD)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "query.due"
