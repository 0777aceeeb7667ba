"""Services another agency decides, through the same window (issue 14; ADR 0040): at the Belek post-office centre
an unemployment-benefit application is accepted with a receipt, goes to the Ministry of Labour and Social
Development — a separate process with the agency's own Kafka login (btdeploy.agency_standin) that verifies the
platform's signature — which accepts and decides it; the centre hands the decision over and the applicant is
told. A refusal carries the agency's reason into the application's timeline. The case has a review deadline and
counts in the statistics like every other."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from services_flow import ok

from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.stack import Stack
from btkernel import clock
from civreg import catalogue, countries, pin

pytestmark = pytest.mark.e2e

CENTRE, OFFICE, AGENCY = "kg-sokuluk-belek", "kg-sokuluk", "kg-mlsd"
SERVICE = "unemployment_benefit"
BISHKEK = countries.timezone_of("KG")
OPERATOR = dev_user("centre_operator", CENTRE)
HEAD = dev_user("registry_head", OFFICE)
SUPERVISOR = dev_user("supervisor")
_serial = itertools.count(701)


def _application(surname: str, email: str) -> tuple[dict[str, Any], str]:
    number = pin.make(dt.date(1991, 8, 12), "male", next(_serial))
    today = clock.today(BISHKEK)
    service = catalogue.load().get(SERVICE, on=today, country="KG")
    assert service is not None
    assert service.decided_by == AGENCY
    documents = [d.code for d in service.required_documents(with_representative=False, variant=None)]
    body = {
        "service_id": SERVICE,
        "applicant": {"iin": number, "name": {"surname": surname, "first_name": "Бакыт"}},
        "contact": {"phone": "+996555123456", "email": email},
        "documents": documents,
        "details": {},
    }
    return body, number


async def _accept(gw: Gateway, body: dict[str, Any]) -> dict[str, Any]:
    accepted = ok(await gw.as_(OPERATOR, "POST", "/api/v1/applications", json=body), 201)
    assert accepted["receipt"]["number"], accepted
    return accepted


async def _request_at_agency(agency_standin: Any, application_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        found: dict[str, Any] | None = agency_standin.requests()["verified"].get(application_id)
        return found

    return await eventually(probe, timeout_s=90, what=f"the agency to receive {application_id}")


async def _case(gw: Gateway, application_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        r = await gw.as_(SUPERVISOR, "GET", "/api/v1/cases", params={"application_id": application_id})
        rows = r.json() if r.status_code == 200 else []
        return rows[0] if rows and rows[0]["status"] == status else None

    return await eventually(probe, timeout_s=90, what=f"the case of {application_id} {status}")


async def _ready(gw: Gateway, application_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        r = await gw.as_(OPERATOR, "GET", f"/api/v1/applications/{application_id}")
        return r.json() if r.status_code == 200 and r.json()["status"] == "ready_for_pickup" else None

    return await eventually(probe, timeout_s=90, what=f"the result of {application_id} at the centre")


async def test_an_unemployment_benefit_decided_by_the_agency_and_handed_over(
    stack: Stack, gateway: Gateway, agency_standin: Any
) -> None:
    body, number = _application("Асанов", "benefit-granted@example.kg")
    accepted = await _accept(gateway, body)
    application_id = accepted["application_id"]

    # The agency's process received the signed request, with the facts its contract grants.
    request = await _request_at_agency(agency_standin, application_id)
    assert request["type"] == "bt.partner.application-request.v1"
    assert request["subject"] == application_id
    assert request["data"]["service_id"] == SERVICE
    assert request["data"]["receipt_number"] == accepted["receipt"]["number"]
    assert request["data"]["centre_id"] == CENTRE
    assert request["data"]["applicant"]["personal_number"] == number
    # ("verified" means its Ed25519 signature checked against the gateway's JWKS; the stand-in keeps what fails as
    # "refused", e.g. the unsigned marker the ACL proof writes on the same topic.)
    case = await _case(gateway, application_id, "at_agency")

    # A review deadline like every case's, counted on the Kyrgyz calendar in Bishkek time.
    async def review() -> dict[str, Any] | None:
        r = await gateway.as_(SUPERVISOR, "GET", "/api/v1/deadlines", params={"case_id": case["case_id"]})
        return next((d for d in r.json() if d["kind"] == "review"), None) if r.status_code == 200 else None

    deadline = await eventually(review, what="the review deadline of the agency's case")
    assert deadline["country"] == "KG"
    assert countries.calendar("KG").is_working_day(
        dt.datetime.fromisoformat(deadline["due_at"]).astimezone(BISHKEK).date()
    )

    # The agency accepts, then decides: the case follows, the result reaches the centre.
    agency_standin.answer(application_id, "accepted")
    await _case(gateway, application_id, "accepted_by_agency")
    agency_standin.answer(application_id, "decided", decision_number="MLSD-2026-0001")
    await _ready(gateway, application_id)

    issued = await gateway.as_(
        OPERATOR,
        "POST",
        f"/api/v1/applications/{application_id}/handover",
        json={"receipt_number": accepted["receipt"]["number"], "identity_document_iin": number},
    )
    assert ok(issued)["status"] == "issued"
    timeline = ok(await gateway.as_(OPERATOR, "GET", f"/api/v1/applications/{application_id}/timeline"))
    assert [t["type"].split(".")[-2] for t in timeline] == [
        "submitted",
        "forwarded",
        "result-received",
        "result-issued",
    ]

    # The applicant was told (the delivery log).
    async def delivered() -> list[Any] | None:
        r = await gateway.as_(
            OPERATOR, "GET", "/api/v1/notifications", params={"application_id": application_id}
        )
        entries = r.json()["items"] if r.status_code == 200 else []
        return entries if any(e["status"] == "delivered" for e in entries) else None

    await eventually(delivered, timeout_s=90, what="the applicant's notification delivered")

    # The statistics count the case with the Sokuluk office's, in Kyrgyzstan.
    today = clock.today(BISHKEK)
    stats = ok(
        await gateway.as_(
            SUPERVISOR,
            "GET",
            "/api/v1/statistics",
            params={"from": str(today - dt.timedelta(days=1)), "to": str(today), "country": "KG"},
        )
    )
    rows = [i for i in stats["items"] if i.get("service_id") == SERVICE]
    assert rows, stats
    assert {i["country"] for i in rows} == {"KG"}


async def test_a_refusal_carries_the_agencys_reason_to_the_centre(
    gateway: Gateway, agency_standin: Any
) -> None:
    # Scripted before the application exists: the agency refuses this applicant's request as soon as it comes.
    reason = "Заявитель состоит в трудовых отношениях (сведения Социального фонда)"
    body, number = _application("Бакиров", "benefit-refused@example.kg")
    agency_standin.plan(number, [{"kind": "accepted"}, {"kind": "refused", "reason": reason}])
    accepted = await _accept(gateway, body)
    application_id = accepted["application_id"]

    await _ready(gateway, application_id)
    case = await _case(gateway, application_id, "result_sent")
    assert case["status"] == "result_sent"
    timeline = ok(await gateway.as_(OPERATOR, "GET", f"/api/v1/applications/{application_id}/timeline"))
    received = next(t for t in timeline if t["type"].split(".")[-2] == "result-received")
    assert reason in str(received), received
    # The agency answered twice; it sent no answer for anyone else.
    sent = [a for a in agency_standin.answers() if a["subject"] == application_id]
    assert [a["data"]["kind"] for a in sent] == ["accepted", "refused"]
