"""Submitting birth applications at a centre, on real PostgreSQL: receipts, refusal receipts, idempotency,
errors that name the field."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg
import httpx
import pytest

from btdeploy.samples import birth_application
from btkernel.testing import actor_headers
from civreg.iin import make

pytestmark = pytest.mark.integration

OPERATOR = actor_headers("op-almaly-1", "centre_operator", "almaty-con-1", "Сейткали Айгерим Нурлановна")


async def test_complete_package_gets_a_receipt_with_every_field(
    intake: tuple[httpx.AsyncClient, str],
) -> None:
    client, dsn = intake
    r = await client.post("/api/v1/applications", json=birth_application(), headers=OPERATOR)
    assert r.status_code == 201, r.text
    body = r.json()
    receipt = body["receipt"]
    assert body["status"] == "forwarded_to_registry"
    assert body["refusal_receipt"] is None
    # S004 p.9(2): number and date, service, documents (count and names), date and place of issue, operator,
    # applicant, representative, phones.
    assert receipt["number"].startswith("ALMATY-CON-1-")
    assert receipt["accepted_at"]
    assert receipt["service_name"].startswith("Регистрация рождения")
    assert receipt["documents_count"] == 2
    assert {d["code"] for d in receipt["documents"]} == {
        "identity_document",
        "medical_birth_certificate",
    }
    assert receipt["result_issue_date"]
    assert "ЦОН Алмалинского" in receipt["result_issue_place"]
    assert receipt["operator_name"] == "Сейткали Айгерим Нурлановна"
    assert receipt["applicant_name"] == "Жұмабаева Әсел Маратқызы"
    assert receipt["representative_name"] is None
    assert receipt["phones"] == ["+77011234567"]
    conn = await asyncpg.connect(dsn)
    try:
        types = [r["t"] for r in await conn.fetch("SELECT envelope->>'type' AS t FROM outbox ORDER BY id")]
    finally:
        await conn.close()
    assert len(types) == 2
    assert types[0].endswith("submitted.v1")
    assert types[1].endswith("forwarded.v1")


async def test_incomplete_package_gets_a_refusal_receipt(intake: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = intake
    r = await client.post(
        "/api/v1/applications", json=birth_application(documents=["identity_document"]), headers=OPERATOR
    )
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "acceptance_refused"
    assert body["receipt"] is None
    assert [d["code"] for d in body["refusal_receipt"]["missing_documents"]] == ["medical_birth_certificate"]
    status = await client.get(f"/api/v1/applications/{body['application_id']}", headers=OPERATOR)
    assert status.json()["status"] == "acceptance_refused"


async def test_a_representative_needs_the_power_of_attorney_document(
    intake: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = intake
    rep = {
        "person": {
            "iin": make(dt.date(1980, 7, 1), "male", 3),
            "name": {"surname": "Иванов", "first_name": "Пётр"},
        },
        "power_of_attorney": {"number": "77", "issued_on": "2026-01-10", "notary": "Нотариус Ахметова"},
    }
    r = await client.post(
        "/api/v1/applications", json=birth_application(representative=rep), headers=OPERATOR
    )
    assert r.status_code == 201, r.text
    assert r.json()["refusal_receipt"]["representative_name"] == "Иванов Пётр"
    assert r.json()["refusal_receipt"]["missing_documents"][0]["code"] == "power_of_attorney"


async def test_same_idempotency_key_gives_the_same_receipt_once(
    intake: tuple[httpx.AsyncClient, str],
) -> None:
    client, dsn = intake
    headers = {**OPERATOR, "Idempotency-Key": "counter-3-visit-17"}
    body = birth_application()
    first, second = await asyncio.gather(
        client.post("/api/v1/applications", json=body, headers=headers),
        client.post("/api/v1/applications", json=body, headers=headers),
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    third = await client.post("/api/v1/applications", json=body, headers=headers)
    assert third.json() == first.json()
    assert third.headers.get("Idempotent-Replayed") == "true"
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM applications") == 1
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 2
    finally:
        await conn.close()
    other = await client.post(
        "/api/v1/applications", json=birth_application(documents=["identity_document"]), headers=headers
    )
    assert other.status_code == 409
    assert other.json()["errors"][0]["path"] == "header.idempotency-key"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            {"applicant": {"iin": "900517400016", "name": {"surname": "А", "first_name": "Б"}}},
            "body.applicant.iin",
        ),
        # Without the IIN nobody could be identified at hand-over (S002 p.9).
        ({"applicant": {"name": {"surname": "А", "first_name": "Б"}}}, "body.applicant.iin"),
        ({"contact": {"phone": "12"}}, "body.contact.phone"),
        ({"contact": {}}, "body.contact"),
        ({"documents": ["identity_document", "passport_of_mars"]}, "body.documents[1]"),
        ({"service_id": "moon_registration"}, "body.service_id"),
        ({"registry_office_id": "nowhere"}, "body.registry_office_id"),
        (
            {
                "details": {
                    "child": {
                        "name": {"surname": "А", "first_name": "Б"},
                        "sex": "male",
                        "birth_date": "2999-01-01",
                        "birth_place": "Алматы",
                    },
                    "mother": {"name": {"surname": "А", "first_name": "В"}},
                }
            },
            "body.details.child.birth_date",
        ),
        (
            {
                "details": {
                    "child": {
                        "name": {"surname": "А", "first_name": "Б"},
                        "sex": "other",
                        "birth_date": "2020-01-01",
                        "birth_place": "Алматы",
                    },
                    "mother": {"name": {"surname": "А", "first_name": "В"}},
                }
            },
            "body.details.child.sex",
        ),
        (
            {
                "details": {
                    "child": {
                        "name": {"surname": "А", "first_name": "Б"},
                        "sex": "male",
                        "birth_date": "2020-01-01",
                        "birth_place": "Алматы",
                    }
                }
            },
            "body.details",
        ),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    intake: tuple[httpx.AsyncClient, str],
    change: dict[str, Any],
    path: str,
) -> None:
    client, dsn = intake
    r = await client.post("/api/v1/applications", json=birth_application(**change), headers=OPERATOR)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert path in [e["path"] for e in problem["errors"]], problem
    assert all(e["reason"] for e in problem["errors"])
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM applications") == 0
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await conn.close()


async def test_roles_and_scoping(intake: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = intake
    assert (await client.post("/api/v1/applications", json=birth_application())).status_code == 401
    head = actor_headers("h", "registry_head", "almaty-almaly")
    assert (
        await client.post("/api/v1/applications", json=birth_application(), headers=head)
    ).status_code == 403
    r = await client.post("/api/v1/applications", json=birth_application(), headers=OPERATOR)
    other_centre = actor_headers("op2", "centre_operator", "almaty-con-2")
    app_id = r.json()["application_id"]
    assert (await client.get(f"/api/v1/applications/{app_id}", headers=other_centre)).status_code == 404
    supervisor = actor_headers("sup", "supervisor")
    assert (await client.get(f"/api/v1/applications/{app_id}", headers=supervisor)).status_code == 200
    timeline = (await client.get(f"/api/v1/applications/{app_id}/timeline", headers=OPERATOR)).json()
    assert [t["type"].split(".")[-2] for t in timeline] == ["submitted", "forwarded"]
