"""SMS to applicants reachable by phone only (ADR 0038), through the gateway, with the SMS provider's sink as its own
process reporting delivery back to the notification service: a result ready by SMS marked delivered from the
sink's report, a phone off sent again in a new round, a wrong number failed with the provider's reason."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from services_flow import Office, find_case, finish, ok, submit, through_review

from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.samples import birth_application
from btdeploy.stack import Stack

pytestmark = pytest.mark.e2e

CENTRE = "almaty-con-1"


def _phone() -> str:
    """A fresh Kazakh mobile, written as people do (the service normalises it)."""
    digits = str(uuid.uuid4().int)[:7]
    return f"+7 701 {digits[:3]} {digits[3:5]} {digits[5:]}"


def _normalised(phone: str) -> str:
    return phone.replace(" ", "")


async def _log(gateway: Gateway, application_id: str, status: str) -> dict[str, Any]:
    operator = dev_user("centre_operator", CENTRE)

    async def probe() -> dict[str, Any] | None:
        r = await gateway.as_(
            operator, "GET", "/api/v1/notifications", params={"application_id": application_id}
        )
        items = r.json()["items"] if r.status_code == 200 else []
        return next((i for i in items if i["status"] == status), None)

    return await eventually(
        probe, timeout_s=90, what=f"an SMS of {application_id} {status} in the delivery log"
    )


async def test_a_phone_only_applicants_result_comes_by_sms_and_the_report_marks_it_delivered(
    gateway: Gateway, stack: Stack
) -> None:
    people = Office()
    phone = _phone()
    accepted = await submit(gateway, people, "state_corporation", birth_application(contact={"phone": phone}))
    case_id = await through_review(
        gateway, people, await find_case(gateway, people, accepted["application_id"])
    )
    await finish(gateway, people, case_id)

    [sms] = await asyncio.to_thread(stack.sms.wait_for, _normalised(phone), 1, reports=1, timeout=90)
    assert sms["phone"] == _normalised(phone).removeprefix("+")
    assert accepted["receipt"]["number"] in sms["text"]
    assert "готов к выдаче" in sms["text"]
    assert "нәтиже дайын" in sms["text"]
    assert sms["segments"] <= 3
    assert "Жұмабаева" not in sms["text"]  # no name in an SMS
    # The sink's signed report reached the service and settled the message.
    assert sms["reports"][0]["callback_status"] == 200
    delivered = await _log(gateway, accepted["application_id"], "delivered")
    assert (delivered["channel"], delivered["recipient"], delivered["template"]) == (
        "sms",
        _normalised(phone),
        "result_ready",
    )
    assert delivered["delivered_at"] is not None


async def test_a_phone_off_is_sent_again_and_a_wrong_number_fails_with_the_providers_reason(
    gateway: Gateway, stack: Stack
) -> None:
    operator = dev_user("centre_operator", CENTRE)
    off, wrong = _phone(), _phone()
    # The provider will report: first "expired" (the phone was off), then delivered; the other number is wrong.
    await asyncio.to_thread(stack.sms.script, "plan", {"phone": _normalised(off), "statuses": [3, 1]})
    await asyncio.to_thread(stack.sms.script, "plan", {"phone": _normalised(wrong), "statuses": [22]})
    refused = {}
    for phone in (off, wrong):
        # An incomplete package: the refusal receipt's notice goes out at once.
        body = birth_application(contact={"phone": phone}, documents=["identity_document"])
        r = ok(await gateway.as_(operator, "POST", "/api/v1/applications", json=body), 201)
        assert r["status"] == "acceptance_refused"
        refused[phone] = r

    first, again = await asyncio.to_thread(stack.sms.wait_for, _normalised(off), 2, reports=1, timeout=90)
    assert again["id"] == f"{first['id']}.1"  # a new round, under its own reference
    assert refused[off]["refusal_receipt"]["number"] in first["text"]
    settled = await _log(gateway, refused[off]["application_id"], "delivered")
    assert settled["attempts"] == 2

    failed = await _log(gateway, refused[wrong]["application_id"], "failed")
    assert failed["last_error"] == "SMS wrong number (status 22, error 0)"
    assert len(await asyncio.to_thread(stack.sms.messages, _normalised(wrong))) == 1  # not sent again


def test_a_forged_report_to_the_service_is_refused(stack: Stack) -> None:
    r = httpx.post(
        f"{stack.url('notification')}/sms-provider/reports",
        content=b"id=x&phone=77011234567&status=1",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Sms-Signature": "sha256=00"},
    )
    assert r.status_code == 401
