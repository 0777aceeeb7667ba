"""Channels and the centre's storage on real PostgreSQL: a desk registration mark, portal EDS checks, channel
refusals naming the field; a result kept one month, found by `due_for_return`, returned and recalled (S004 p.9)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from btdeploy.samples import act_application, birth_application, eds_signature, person
from btkernel import db
from btkernel.context import RequestContext
from btkernel.testing import actor_headers
from intake.adapters.unit_of_work import PgIntakeUnitOfWork
from intake.domain.application import Application

pytestmark = pytest.mark.integration

OPERATOR = actor_headers("op-almaly-1", "centre_operator", "almaty-con-1", "Сейткали Айгерим Нурлановна")
DESK = actor_headers("chancellery1", "registry_chancellery", "almaty-almaly", "Жумабекова Гульнара Ерлановна")
PORTAL = actor_headers("egov-portal", "portal", "", "egov.kz")


async def test_each_channel_and_its_refusals(intake: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = intake
    desk = await client.post("/api/v1/applications", json=birth_application(), headers=DESK)
    assert desk.status_code == 201, desk.text
    mark = desk.json()["receipt"]
    assert mark["form"] == "registration_mark"
    assert mark["number"].startswith("ALMATY-ALMALY-")
    paternity = act_application("paternity_registration", subject=person("Ким", "Олег", sex="male"))
    refused = await client.post("/api/v1/applications", json=paternity, headers=OPERATOR)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "body.service_id"
    assert refused.json()["code"] == "channel_not_offered"
    unsigned = await client.post(
        "/api/v1/applications",
        json={**birth_application(), "registry_office_id": "almaty-almaly"},
        headers=PORTAL,
    )
    assert unsigned.status_code == 422
    assert unsigned.json()["errors"][0]["path"] == "body.signature"
    body = birth_application()
    expired = {
        **body,
        "registry_office_id": "almaty-almaly",
        "signature": eds_signature(body["applicant"]["iin"], valid_days=-1),
    }
    r = await client.post("/api/v1/applications", json=expired, headers=PORTAL)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "body.signature.certificate_valid_until"
    signed = {
        **body,
        "registry_office_id": "almaty-almaly",
        "signature": eds_signature(body["applicant"]["iin"]),
    }
    r = await client.post("/api/v1/applications", json=signed, headers=PORTAL)
    assert r.status_code == 201
    assert r.json()["receipt"]["form"] == "e_registration"
    # A service's details are checked per service; a missing one is named.
    death = act_application("death_registration")
    r = await client.post("/api/v1/applications", json=death, headers=OPERATOR)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "body.details.subject"
    bad_variant = act_application("divorce_registration", variant="by_mail")
    r = await client.post("/api/v1/applications", json=bad_variant, headers=OPERATOR)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "body.details.variant"


async def test_a_result_kept_one_month_is_returned_and_recalled(
    intake: tuple[httpx.AsyncClient, str],
) -> None:
    client, dsn = intake
    r = await client.post("/api/v1/applications", json=birth_application(), headers=OPERATOR)
    application_id = r.json()["application_id"]
    now = dt.datetime.now(dt.UTC)
    conn = await db.connect(dsn)
    try:
        # The result arrived 40 days ago and nobody came for it.
        async with PgIntakeUnitOfWork(conn=conn) as uow:
            app = await uow.events.load_aggregate(Application, application_id)
            assert app is not None
            received = now - dt.timedelta(days=40)
            app.receive_result(
                case_id="k1", outcome="registered", record_number="N", at=received, pickup_place="ЦОН"
            )
            await uow.events.save(app, RequestContext(correlation_id="test"), "/test")
            await uow.applications.update_from(app, received)
            await uow.commit()
        async with PgIntakeUnitOfWork(conn=conn) as uow:
            assert application_id in await uow.applications.due_for_return(now)
            assert application_id not in await uow.applications.due_for_return(now - dt.timedelta(days=20))
    finally:
        await conn.close()
    path = f"/api/v1/applications/{application_id}"
    returned = await client.post(f"{path}/return-to-registry", headers=OPERATOR)
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned_to_registry", returned.text
    early_hand = await client.post(
        f"{path}/handover",
        json={
            "receipt_number": r.json()["receipt"]["number"],
            "identity_document_iin": r.json()["receipt"]["number"],
        },
        headers=OPERATOR,
    )
    assert early_hand.status_code == 422
    recall = await client.post(f"{path}/recall", headers=OPERATOR)
    assert recall.json()["status"] == "recall_requested"
    assert recall.json()["recall_due_at"]
    back = await client.post(f"{path}/recalled", headers=OPERATOR)
    assert back.json()["status"] == "ready_for_pickup"
