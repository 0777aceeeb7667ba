"""The `applications` read model rebuilt from the application streams (ADR 0027) equals, row for row, what the
commands wrote: acceptance at a centre and on the portal, a refused package, results received (one with a reasoned
refusal), a date told in the cabinet, a hand-over, a result kept one month and returned by the sweep, another
returned by hand, recalled and received again (S004 p.9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from btdeploy.samples import birth_application, eds_signature
from btkernel import clock, db, rebuild
from btkernel.context import RequestContext
from btkernel.testing import actor_headers
from civreg.events.case import RegistrationDateAssigned, ResultSentToCentre
from intake.adapters.unit_of_work import PgIntakeUnitOfWork
from intake.app import handover, storage_sweep
from intake.projections import PROJECTIONS

pytestmark = pytest.mark.integration

APPLICATIONS = next(p for p in PROJECTIONS if p.name == "applications")
OPERATOR = actor_headers("op-almaly-1", "centre_operator", "almaty-con-1", "Сейткали Айгерим Нурлановна")
PORTAL = actor_headers("egov-portal", "portal", "", "egov.kz")


async def _rows(dsn: str) -> dict[str, dict[str, Any]]:
    conn = await db.connect(dsn)
    try:
        return {r["application_id"]: dict(r) for r in await conn.fetch("SELECT * FROM applications")}
    finally:
        await conn.close()


async def _submit(client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    r = await client.post("/api/v1/applications", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return {**r.json(), "iin": body["applicant"]["iin"]}


async def _result(dsn: str, application_id: str, at: dt.datetime, refusal: str | None = None) -> None:
    """The registry office's result, as intake's consumer hands it to the use case (at the moment `at`)."""
    sent = ResultSentToCentre(
        case_id=f"case-{application_id}",
        application_id=application_id,
        centre_id="almaty-con-1",
        outcome="refused" if refusal else "registered",
        record_number=None if refusal else f"N-{application_id[:8]}",
        sent_at=at,
        sent_by="chancellery1",
        refusal_reason=refusal,
    )
    conn = await db.connect(dsn)
    try:
        await handover.receive_result(
            sent, RequestContext(correlation_id="t"), at, PgIntakeUnitOfWork.on(conn)
        )
    finally:
        await conn.close()


async def test_applications_rebuilt_equal_the_rows_the_commands_wrote(
    intake: tuple[httpx.AsyncClient, str],
) -> None:
    client, dsn = intake
    now = clock.now()
    handed = await _submit(client, birth_application(), OPERATOR)
    swept = await _submit(client, birth_application(), OPERATOR)
    recalled = await _submit(client, birth_application(), OPERATOR)
    waiting = await _submit(client, birth_application(), OPERATOR)
    refused = await client.post(
        "/api/v1/applications", json=birth_application(documents=["identity_document"]), headers=OPERATOR
    )
    assert refused.json()["status"] == "acceptance_refused"
    body = birth_application()
    portal = await _submit(
        client,
        {**body, "registry_office_id": "almaty-almaly", "signature": eds_signature(body["applicant"]["iin"])},
        PORTAL,
    )

    await _result(dsn, handed["application_id"], now)
    r = await client.post(
        f"/api/v1/applications/{handed['application_id']}/handover",
        json={"receipt_number": handed["receipt"]["number"], "identity_document_iin": handed["iin"]},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    # Results that waited forty days: one the sweep returns, one the operator returns, then recalled.
    await _result(dsn, swept["application_id"], now - dt.timedelta(days=40))
    await _result(dsn, recalled["application_id"], now - dt.timedelta(days=40))
    path = f"/api/v1/applications/{recalled['application_id']}"
    for step in ("return-to-registry", "recall", "recalled"):
        r = await client.post(f"{path}/{step}", headers=OPERATOR)
        assert r.status_code == 200, r.text
    await _result(dsn, waiting["application_id"], now, refusal="the father's document is forged")
    # The portal applicant's result, after a date told in the cabinet.
    conn = await db.connect(dsn)
    try:
        told = RegistrationDateAssigned(
            case_id="case-portal",
            assigned_at=now,
            assigned_by="executive1",
            registration_on=now.date() + dt.timedelta(days=3),
            application_id=portal["application_id"],
            channel="portal",
        )
        await handover.tell_date_assigned(
            told, RequestContext(correlation_id="t"), now, PgIntakeUnitOfWork.on(conn)
        )
        await _result(dsn, portal["application_id"], now)
        assert await storage_sweep.sweep(lambda: PgIntakeUnitOfWork.on(conn), now) == 1
    finally:
        await conn.close()

    live = await _rows(dsn)
    statuses = {row["status"] for row in live.values()}
    assert statuses == {
        "issued",
        "returned_to_registry",
        "ready_for_pickup",
        "acceptance_refused",
    }, statuses
    assert live[waiting["application_id"]]["refusal_reason"] == "the father's document is forged"
    assert live[recalled["application_id"]]["result_received_at"] > now - dt.timedelta(days=1)

    report = await rebuild.rebuild(dsn, APPLICATIONS, batch=2, keep_retired=True)
    assert report.events >= 2 * len(live)
    rebuilt = await _rows(dsn)
    for application_id, row in live.items():
        assert rebuilt[application_id] == row, application_id
    assert set(rebuilt) == set(live)
