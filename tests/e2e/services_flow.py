"""Driving one application through the gateway, as the people at the counter and in the office do it: submit on a
channel, find the case, walk the office's steps, wait for the result where it was accepted, hand it over."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import httpx

from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.samples import birth_application, eds_signature
from btkernel import clock
from civreg.calendar import ALMATY

CENTRE, OFFICE = "almaty-con-1", "almaty-almaly"


@dataclass
class Office:
    operator: Any = field(default_factory=lambda: dev_user("centre_operator", CENTRE))
    chancellery: Any = field(default_factory=lambda: dev_user("registry_chancellery", OFFICE))
    head: Any = field(default_factory=lambda: dev_user("registry_head", OFFICE))
    executive: Any = field(default_factory=lambda: dev_user("registry_executive", OFFICE))
    worker: Any = field(default_factory=lambda: dev_user("registry_worker", OFFICE))
    portal: Any = field(default_factory=lambda: dev_user("portal"))

    def submitter(self, channel: str, service_id: str = "") -> Any:
        if channel == "state_corporation":
            return self.operator
        if channel == "portal":
            return self.portal
        return self.worker if service_id == "annulment_of_records" else self.chancellery


def ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, (r.request.url.path, r.status_code, r.text)
    body: dict[str, Any] = r.json()
    return body


async def submit(gw: Gateway, people: Office, channel: str, body: dict[str, Any]) -> dict[str, Any]:
    if channel == "portal":
        body = {**body, "registry_office_id": OFFICE, "signature": eds_signature(body["applicant"]["iin"])}
    user = people.submitter(channel, body["service_id"])

    async def attempt() -> httpx.Response | None:
        r = await gw.as_(user, "POST", "/api/v1/applications", json=body)
        # Intake learns of a record from the record topic a moment after it is registered (ADR 0012).
        return None if r.status_code == 422 and r.json().get("code") == "record_unknown" else r

    r = await eventually(attempt, what="intake to know the records the application names")
    accepted = ok(r, 201)
    assert accepted["status"] == "forwarded_to_registry", accepted
    return accepted


async def find_case(gw: Gateway, people: Office, application_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        r = await gw.as_(people.head, "GET", "/api/v1/cases", params={"application_id": application_id})
        rows = r.json() if r.status_code == 200 else []
        return rows[0] if rows else None

    return await eventually(probe, what=f"the case of application {application_id}")


async def step(gw: Gateway, user: Any, case_id: str, action: str, body: Any = None, status: int = 200) -> Any:
    r = await gw.as_(user, "POST", f"/api/v1/cases/{case_id}/{action}", json=body)
    assert r.status_code == status, (action, r.status_code, r.text)
    return r.json()


async def through_review(
    gw: Gateway, people: Office, case: dict[str, Any], registering: Any | None = None
) -> str:
    """Steps 1–2: registered by the chancellery (or the worker), resolution of the head."""
    case_id: str = case["case_id"]
    await step(gw, registering or people.chancellery, case_id, "chancellery-registration")
    await step(gw, people.head, case_id, "resolution", {"executive_id": people.executive.username})
    return case_id


async def finish(
    gw: Gateway,
    people: Office,
    case_id: str,
    issuing: Any | None = None,
    registration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Steps 3–6: the act, the head's signature, the result issued or sent on."""
    await step(gw, people.executive, case_id, "registration", registration or {})
    await step(gw, people.head, case_id, "signature")
    done: dict[str, Any] = await step(gw, issuing or people.chancellery, case_id, "dispatch")
    assert done["status"] == "result_sent"
    return done


async def ready(gw: Gateway, user: Any, application_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        r = await gw.as_(user, "GET", f"/api/v1/applications/{application_id}")
        return r.json() if r.status_code == 200 and r.json()["status"] == "ready_for_pickup" else None

    return await eventually(probe, what=f"the result of {application_id} ready for pickup")


async def hand_over(gw: Gateway, user: Any, accepted: dict[str, Any], iin: str) -> dict[str, Any]:
    app = await ready(gw, user, accepted["application_id"])
    number = accepted["receipt"]["number"]
    r = await gw.as_(
        user,
        "POST",
        f"/api/v1/applications/{accepted['application_id']}/handover",
        json={"receipt_number": number, "identity_document_iin": iin},
    )
    assert ok(r)["status"] == "issued"
    return app


async def register_birth(gw: Gateway, people: Office) -> dict[str, Any]:
    """A birth registered at the desk, for the services that act on an existing birth record."""
    _, record = await register_birth_applied(gw, people)
    return record


async def register_birth_applied(gw: Gateway, people: Office) -> tuple[str, dict[str, Any]]:
    """`register_birth`, with the id of the application it was registered on."""
    body = birth_application(born=clock.today(ALMATY) - dt.timedelta(days=1))
    accepted = await submit(gw, people, "desk", body)
    case_id = await through_review(gw, people, await find_case(gw, people, accepted["application_id"]))
    done = await finish(gw, people, case_id)
    record = ok(await gw.as_(people.executive, "GET", f"/api/v1/records/{done['record_id']}"))
    return accepted["application_id"], record


async def history(gw: Gateway, people: Office, record_id: str) -> list[str]:
    r = await gw.as_(people.executive, "GET", f"/api/v1/records/{record_id}/history")
    return [e["type"].split(".")[-2] for e in r.json()]
