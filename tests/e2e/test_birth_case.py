"""A birth registered through a service centre, from the operator's first request to the certificate handed
over — through the gateway only, with PostgreSQL, Kafka, an SMTP sink and all five services as processes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.samples import birth_application
from btdeploy.smtp_sink import SmtpSink
from btkernel import clock
from civreg.calendar import ALMATY

pytestmark = pytest.mark.e2e

CENTRE, OFFICE = "almaty-con-1", "almaty-almaly"


async def test_birth_from_counter_to_certificate_in_hand(gateway: Gateway, smtp_sink: SmtpSink) -> None:
    operator = dev_user("centre_operator", CENTRE)
    chancellery = dev_user("registry_chancellery", OFFICE)
    head = dev_user("registry_head", OFFICE)
    executive = dev_user("registry_executive", OFFICE)
    email = f"mother-{uuid.uuid4().hex[:8]}@example.kz"
    correlation = f"e2e-{uuid.uuid4()}"

    # 1. Receipt at the counter, repeated with the same Idempotency-Key: the same receipt.
    body = birth_application(email=email)
    headers = {"Idempotency-Key": f"visit-{uuid.uuid4()}", "X-Correlation-Id": correlation}
    first = await gateway.as_(operator, "POST", "/api/v1/applications", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await gateway.as_(operator, "POST", "/api/v1/applications", json=body, headers=headers)
    assert again.json() == first.json()
    application_id = first.json()["application_id"]
    receipt = first.json()["receipt"]

    # 2–3. Forwarded to the office: a case with its review deadline appears in the worklist.
    async def case_in_worklist() -> dict[str, Any] | None:
        r = await gateway.as_(chancellery, "GET", "/api/v1/worklist")
        return next((c for c in r.json() if c["application_id"] == application_id), None)

    case = await eventually(case_in_worklist, what="the case in the office's worklist")
    assert case["review_term"] == {"value": 1, "unit": "working_days", "source": "S002/App.1 p.5(3), p.9"}
    assert case["overdue"] is False
    assert case["receipt_number"] == receipt["number"]
    case_id = case["case_id"]
    other_office = dev_user("registry_head", "almaty-bostandyk")
    assert (await gateway.as_(other_office, "GET", f"/api/v1/cases/{case_id}")).status_code == 404

    steps = [
        (chancellery, f"/api/v1/cases/{case_id}/chancellery-registration", None),
        (head, f"/api/v1/cases/{case_id}/resolution", {"executive_id": executive.username}),
        (executive, f"/api/v1/cases/{case_id}/registration", {}),
        (head, f"/api/v1/cases/{case_id}/signature", None),
        (chancellery, f"/api/v1/cases/{case_id}/dispatch", None),
    ]
    for user, path, payload in steps:
        r = await gateway.as_(user, "POST", path, json=payload)
        assert r.status_code == 200, (path, r.text)
    done = r.json()
    record_number = done["record_number"]
    assert done["status"] == "result_sent"
    assert record_number.startswith(f"{OFFICE}/birth/")
    # The correlation id of the counter request reached the registry's events through Kafka.
    assert done["history"][0]["correlation_id"] == correlation

    # 4. The result reaches the centre; the operator hands it over against the receipt and the ID.
    async def ready() -> dict[str, Any] | None:
        r = await gateway.as_(operator, "GET", f"/api/v1/applications/{application_id}")
        return r.json() if r.json()["status"] == "ready_for_pickup" else None

    status = await eventually(ready, what="the result at the centre")
    assert status["record_number"] == record_number
    wrong = await gateway.as_(
        operator,
        "POST",
        f"/api/v1/applications/{application_id}/handover",
        json={"receipt_number": "WRONG", "identity_document_iin": body["applicant"]["iin"]},
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["path"] == "body.receipt_number"
    issued = await gateway.as_(
        operator,
        "POST",
        f"/api/v1/applications/{application_id}/handover",
        json={"receipt_number": receipt["number"], "identity_document_iin": body["applicant"]["iin"]},
    )
    assert issued.status_code == 200
    assert issued.json()["status"] == "issued"
    timeline = (await gateway.as_(operator, "GET", f"/api/v1/applications/{application_id}/timeline")).json()
    assert [t["type"].split(".")[-2] for t in timeline] == [
        "submitted",
        "forwarded",
        "result-received",
        "result-issued",
    ]
    assert timeline[0]["correlation_id"] == correlation

    # 5. The applicant was told by e-mail; the fee decision was recorded — both as consumers of the events.
    mails = smtp_sink.wait_for(email, count=1, timeout=60)
    assert receipt["number"] in mails[0].text()

    async def delivered() -> list[Any] | None:
        r = await gateway.as_(
            operator, "GET", "/api/v1/notifications", params={"application_id": application_id}
        )
        entries = r.json()["items"] if r.status_code == 200 else []
        return entries if any(e["status"] == "delivered" for e in entries) else None

    await eventually(delivered, what="the delivery log entry")

    async def fee() -> dict[str, Any] | None:
        r = await gateway.as_(operator, "GET", "/api/v1/fees", params={"application_id": application_id})
        return r.json() if r.status_code == 200 else None

    fees = await eventually(fee, what="the fee decision")
    (decision,) = fees["items"]
    assert decision["payable"] is False
    assert decision["amount_tiyn"] == 0

    # Every legal term of the case was closed when its step was done (deadlines follow the case's events).
    async def all_terms_closed() -> list[dict[str, Any]] | None:
        r = await gateway.as_(
            head,
            "GET",
            "/api/v1/deadlines",
            params={"application_id": application_id, "include_done": "true"},
        )
        terms = r.json() if r.status_code == 200 else []
        return terms if terms and all(t["status"] != "running" for t in terms) else None

    terms = {t["kind"]: t for t in await eventually(all_terms_closed, what="every term closed")}
    assert {"review", "step:1", "step:2", "step:3", "step:5", "step:6"} <= set(terms)
    assert terms["review"]["status"] == "met"
    stats = await gateway.as_(
        head,
        "GET",
        "/api/v1/statistics",
        params={"from": str(clock.today(ALMATY) - dt.timedelta(days=1)), "to": str(clock.today(ALMATY))},
    )
    birth = next(i for i in stats.json()["items"] if i["service_id"] == "birth_registration")
    assert birth["count"] >= 1
    assert birth["share_on_time"] == 1.0
    csv = await gateway.as_(
        head,
        "GET",
        "/api/v1/statistics",
        params={"from": str(clock.today(ALMATY)), "to": str(clock.today(ALMATY)), "format": "csv"},
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("registry_office_id,")

    # 6. The record by number and by the mother's IIN.
    by_number = await gateway.as_(executive, "GET", "/api/v1/records", params={"number": record_number})
    assert [r["record_number"] for r in by_number.json()] == [record_number]
    by_iin = await gateway.as_(executive, "GET", "/api/v1/records", params={"iin": body["applicant"]["iin"]})
    assert record_number in [r["record_number"] for r in by_iin.json()]


async def test_incomplete_package_gets_a_refusal_receipt_and_a_letter(
    gateway: Gateway, smtp_sink: SmtpSink
) -> None:
    operator = dev_user("centre_operator", CENTRE)
    email = f"refused-{uuid.uuid4().hex[:8]}@example.kz"
    r = await gateway.as_(
        operator,
        "POST",
        "/api/v1/applications",
        json=birth_application(email=email, documents=["identity_document"]),
    )
    assert r.status_code == 201
    assert r.json()["status"] == "acceptance_refused"
    assert r.json()["refusal_receipt"]["missing_documents"][0]["code"] == "medical_birth_certificate"
    smtp_sink.wait_for(email, count=1, timeout=60)


async def test_errors_at_the_gateway_name_the_field_and_the_role(gateway: Gateway) -> None:
    operator = dev_user("centre_operator", CENTRE)
    bad = await gateway.as_(
        operator,
        "POST",
        "/api/v1/applications",
        json=birth_application(applicant={"iin": "123", "name": {"surname": "А", "first_name": "Б"}}),
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["path"] == "body.applicant.iin"
    assert (await gateway.client.post("/api/v1/applications", json=birth_application())).status_code == 401
    head = dev_user("registry_head", OFFICE)
    forbidden = await gateway.as_(head, "POST", "/api/v1/applications", json=birth_application())
    assert forbidden.status_code == 403
    bad_token = await gateway.client.get("/api/v1/worklist", headers={"Authorization": "Bearer nonsense"})
    assert bad_token.status_code == 401


async def test_health_and_the_public_api_document(gateway: Gateway) -> None:
    health = await gateway.client.get("/health")
    assert health.status_code == 200, health.text
    spec = (await gateway.client.get("/openapi.json")).json()
    for path in (
        "/api/v1/applications",
        "/api/v1/worklist",
        "/api/v1/cases/{case_id}/registration",
        "/api/v1/notifications",
        "/api/v1/fees",
        "/api/v1/auth/token",
        "/api/v1/services",
    ):
        assert path in spec["paths"], path
    services = await gateway.as_(dev_user("centre_operator", CENTRE), "GET", "/api/v1/services")
    assert len(services.json()) == 10
    assert "birth_registration" in [s["id"] for s in services.json()]
