"""The state duty end to end through the gateway (ADR 0034): quoted before acceptance, paid through the e-government
payment gateway's stand-in (its own process; a signed callback confirms, a duplicate changes nothing, a forged one
is refused), paid by the portal for an application it submitted (its own channel only), paid at a bank and
reconciled from a camt.053 statement (one mismatched item reported), and an exempt repeat birth certificate that
needs no fee_receipt. Amounts in tiyn, from the tariff for the day of filing."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import pytest
from services_flow import OFFICE, Office, ok, register_birth, submit

from btdeploy.bank_statements import Credit, statement
from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.payment_gateway_standin import StandinProcess
from btdeploy.samples import act_application, person
from btkernel import clock
from civreg import duty
from civreg.calendar import ALMATY

pytestmark = pytest.mark.e2e

MARRIAGE_PACKAGE = ["application_form", "identity_documents_of_both"]  # no paper fee_receipt


@pytest.fixture
def people() -> Office:
    return Office()


def marriage_due() -> int:
    """0.5 MRP at the MRP of the day of filing, in whole tiyn (services.md §4; tariff configuration)."""
    mrp = duty.tariff().mrp_on(clock.today(ALMATY))
    return int(Decimal("0.5") * mrp.tenge * 100)


def marriage(documents: list[str], **extra: Any) -> dict[str, Any]:
    bride, groom = person("Сапарова", "Алия"), person("Сапаров", "Ержан", sex="male")
    body = act_application(
        "marriage_registration", applicant=bride, subject=bride, parties=[groom], documents=documents
    )
    return {**body, **extra}


async def payment(gateway: Gateway, user: Any, payment_id: str) -> dict[str, Any]:
    return ok(await gateway.as_(user, "GET", f"/api/v1/duty/payments/{payment_id}"))


async def test_the_duty_is_quoted_before_acceptance(gateway: Gateway, people: Office) -> None:
    quote = ok(await gateway.as_(people.chancellery, "GET", "/api/v1/services/marriage_registration/duty"))
    assert (quote["amount_tiyn"], quote["mrp_multiple"], quote["variant"]) == (
        marriage_due(),
        "0.5",
        "marriage",
    )
    assert quote["to_check"] is True  # not in the sources: configuration to check
    repeat = ok(
        await gateway.as_(
            people.operator,
            "GET",
            "/api/v1/services/repeat_certificates/duty",
            params={"record_kind": "birth", "exemption": "disability"},
        )
    )
    assert (repeat["amount_tiyn"], repeat["exemption"]) == (0, "disability")
    assert "disability" in {e["code"] for e in repeat["exemptions_offered"]}
    refused = await gateway.as_(
        people.chancellery,
        "GET",
        "/api/v1/services/marriage_registration/duty",
        params={"exemption": "disability"},
    )
    assert (refused.status_code, refused.json()["errors"][0]["path"]) == (422, "query.exemption")


async def test_a_marriage_paid_through_the_payment_gateway(
    gateway: Gateway, people: Office, payment_gateway: StandinProcess
) -> None:
    due = marriage_due()
    created = ok(
        await gateway.as_(
            people.chancellery,
            "POST",
            "/api/v1/duty/payments",
            json={"service_id": "marriage_registration"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        ),
        201,
    )
    pid = created["payment_id"]
    assert (created["status"], created["amount_tiyn"]) == ("created", due)
    assert created["payment_url"].startswith(payment_gateway.url)

    # The applicant pays; the stand-in's signed callback reaches the fee service through the platform's gateway.
    paid = await asyncio.to_thread(payment_gateway.script, "pay", {"order_id": pid, "outcome": "paid"})
    assert paid["callback_status"] == 200
    after_pay = await payment(gateway, people.chancellery, pid)
    assert (after_pay["status"], after_pay["amount_tiyn"]) == ("paid", due)
    duplicate = await asyncio.to_thread(payment_gateway.script, "redeliver", {"order_id": pid})
    forged = await asyncio.to_thread(payment_gateway.script, "forge", {"order_id": pid})
    assert (duplicate["callback_status"], forged["callback_status"]) == (200, 401)
    assert (
        await payment(gateway, people.chancellery, pid) == after_pay
    )  # nothing changed, not even updated_at

    body = marriage(
        MARRIAGE_PACKAGE, state_duty={"payment": {"method": "payment_gateway", "payment_id": pid}}
    )
    accepted = await submit(gateway, people, "desk", body)
    receipt_duty = accepted["receipt"]["state_duty"]
    assert (receipt_duty["amount_tiyn"], receipt_duty["payment"]["reference"]) == (due, pid)

    async def linked() -> dict[str, Any] | None:
        p = await payment(gateway, people.chancellery, pid)
        return p if p["application_id"] == accepted["application_id"] else None

    await eventually(linked, what="the payment tied to the accepted application")
    fees = ok(
        await gateway.as_(
            people.chancellery, "GET", "/api/v1/fees", params={"application_id": accepted["application_id"]}
        )
    )
    assert fees["items"][0]["amount_tiyn"] == due


async def test_the_portal_pays_for_an_application_it_submitted(
    gateway: Gateway, people: Office, payment_gateway: StandinProcess
) -> None:
    due = marriage_due()
    accepted = await submit(gateway, people, "portal", marriage([*MARRIAGE_PACKAGE, "fee_receipt"]))
    app_id = accepted["application_id"]
    key = {"Idempotency-Key": str(uuid.uuid4())}

    async def created() -> dict[str, Any] | None:
        r = await gateway.as_(
            people.portal, "POST", "/api/v1/duty/payments", json={"application_id": app_id}, headers=key
        )
        return r.json() if r.status_code == 201 else None  # 404 until the fee decision is taken

    made = await eventually(created, what="the portal's payment of its application's duty")
    pid = made["payment_id"]
    assert (made["status"], made["amount_tiyn"], made["application_id"], made["channel"]) == (
        "created",
        due,
        app_id,
        "portal",
    )
    # Asked again (another key): the one live payment of the application, to pay on its page.
    again = ok(
        await gateway.as_(people.portal, "POST", "/api/v1/duty/payments", json={"application_id": app_id})
    )
    assert again["payment_id"] == pid

    paid = await asyncio.to_thread(payment_gateway.script, "pay", {"order_id": pid, "outcome": "paid"})
    assert paid["callback_status"] == 200
    assert (await payment(gateway, people.portal, pid))["status"] == "paid"
    # The office the application went to sees it too (the result is collected there, S002 p.2).
    assert (await payment(gateway, people.chancellery, pid))["application_id"] == app_id

    # Not its channel: an application accepted at the desk is unknown to the portal, and so is its payment.
    desk = await submit(gateway, people, "desk", marriage([*MARRIAGE_PACKAGE, "fee_receipt"]))

    async def decided() -> dict[str, Any] | None:
        r = await gateway.as_(
            people.chancellery, "GET", "/api/v1/fees", params={"application_id": desk["application_id"]}
        )
        return r.json() if r.status_code == 200 else None

    await eventually(decided, what="the desk application's fee decision")
    refused = await gateway.as_(
        people.portal, "POST", "/api/v1/duty/payments", json={"application_id": desk["application_id"]}
    )
    assert (refused.status_code, refused.json()["errors"][0]["path"]) == (404, "body.application_id")
    desk_payment = ok(
        await gateway.as_(
            people.chancellery, "POST", "/api/v1/duty/payments", json={"service_id": "marriage_registration"}
        ),
        201,
    )
    hidden = await gateway.as_(people.portal, "GET", f"/api/v1/duty/payments/{desk_payment['payment_id']}")
    assert hidden.status_code == 404
    bare = await gateway.as_(people.portal, "POST", "/api/v1/duty/payments", json={})
    assert (bare.status_code, bare.json()["errors"][0]["path"]) == (422, "body.application_id")


async def test_marriages_paid_at_a_bank_are_reconciled_from_a_statement(
    gateway: Gateway, people: Office
) -> None:
    due = marriage_due()
    today = clock.today(ALMATY)
    supervisor = dev_user("supervisor")
    first_doc, second_doc = f"PP-{uuid.uuid4().hex[:10]}", f"PP-{uuid.uuid4().hex[:10]}"
    bank_payment = {
        "method": "bank",
        "bank": "HSBKKZKX",
        "document_number": first_doc,
        "paid_on": today.isoformat(),
        "amount_tiyn": due,
    }
    # One recorded at acceptance, which spares the paper receipt...
    await submit(gateway, people, "desk", marriage(MARRIAGE_PACKAGE, state_duty={"payment": bank_payment}))
    # ...one accepted with the paper receipt and its document recorded after acceptance.
    later = await submit(gateway, people, "desk", marriage([*MARRIAGE_PACKAGE, "fee_receipt"]))
    document = {
        "application_id": later["application_id"],
        "bank": "HSBKKZKX",
        "document_number": second_doc,
        "paid_on": today.isoformat(),
        "amount_tiyn": due,
    }

    async def recorded() -> dict[str, Any] | None:
        r = await gateway.as_(people.chancellery, "POST", "/api/v1/duty/bank-payments", json=document)
        return r.json() if r.status_code == 201 else None  # 404 until the fee decision is taken

    await eventually(recorded, what="the bank document recorded after acceptance")

    # The bank credits the first in full and the second 100 tiyn short.
    xml = statement(
        f"KZ-ST-{uuid.uuid4().hex[:12]}",
        [Credit(due, today, first_doc), Credit(due - 100, today, second_doc)],
    )

    async def imported() -> dict[str, Any] | None:
        # The first payment is recorded when the fee service consumes the submission: until then it is unmatched.
        r = await gateway.as_(
            supervisor,
            "GET",
            "/api/v1/duty/reconciliation",
            params={"from": today.isoformat(), "to": today.isoformat()},
        )
        open_refs = {p["reference"] for d in ok(r)["days"] for p in d["unmatched_payments"]}
        return {"ready": True} if {first_doc, second_doc} <= open_refs else None

    await eventually(imported, what="both bank payments recorded")
    done = ok(
        await gateway.as_(
            supervisor,
            "POST",
            "/api/v1/duty/statements",
            content=xml,
            headers={"Content-Type": "application/xml"},
        )
    )
    assert (done["matched"], done["mismatched"], done["unmatched"]) == (1, 1, 0)
    report = ok(
        await gateway.as_(
            supervisor,
            "GET",
            "/api/v1/duty/reconciliation",
            params={"from": today.isoformat(), "to": today.isoformat()},
        )
    )
    [office_day] = [
        d for d in report["days"] if d["registry_office_id"] == OFFICE and d["day"] == today.isoformat()
    ]
    mismatched = [m for m in office_day["mismatched"] if m["reference"] == second_doc]
    assert [(m["amount_tiyn"], m["reference"]) for m in mismatched] == [(due - 100, second_doc)]
    assert first_doc not in {p["reference"] for p in office_day["unmatched_payments"]}
    refused = await gateway.as_(
        people.chancellery, "GET", "/api/v1/duty/reconciliation", params={"from": "x"}
    )
    assert refused.status_code == 403


async def test_an_exempt_repeat_birth_certificate_needs_no_fee_receipt(
    gateway: Gateway, people: Office
) -> None:
    birth = await register_birth(gateway, people)
    body = act_application(
        "repeat_certificates",
        documents=["application_form", "identity_document", "exemption_document"],
        record_id=birth["record_id"],
        record_kind="birth",
        variant="electronic_since_2008",
    )
    accepted = await submit(
        gateway, people, "state_corporation", {**body, "state_duty": {"exemption": "disability"}}
    )
    receipt_duty = accepted["receipt"]["state_duty"]
    assert (receipt_duty["amount_tiyn"], receipt_duty["exemption"]) == (0, "disability")
    without_document = act_application(
        "repeat_certificates",
        documents=["application_form", "identity_document"],
        record_id=birth["record_id"],
        record_kind="birth",
    )
    refused = ok(
        await gateway.as_(
            people.operator,
            "POST",
            "/api/v1/applications",
            json={**without_document, "state_duty": {"exemption": "disability"}},
        ),
        201,
    )
    assert [d["code"] for d in refused["refusal_receipt"]["missing_documents"]] == ["exemption_document"]

    async def decided() -> dict[str, Any] | None:
        r = await gateway.as_(
            people.operator, "GET", "/api/v1/fees", params={"application_id": accepted["application_id"]}
        )
        return r.json() if r.status_code == 200 else None

    fee = (await eventually(decided, what="the fee decision"))["items"][0]
    assert (fee["amount_tiyn"], fee["payable"]) == (0, False)
    assert "exempt: disability" in fee["basis"]
