"""The state duty at acceptance (ADR 0034): quoted on the receipt in tiyn from the shared tariff; a duty that is
paid, exempt or 0 needs no paper fee_receipt; an exemption needs its supporting document (S004 p.7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from intake_commands import DESK, NOW, OPERATOR, submit_command
from intake_fakes import FakeIntakeUnitOfWork

from btdeploy.samples import act_application, person
from btkernel import errors
from civreg.events.values import DutyPayment
from intake.app.submit import Submit, submit
from intake.app.unit_of_work import KnownRecord

MARRIAGE_DUE = 216_250  # 0.5 MRP × 4325 tenge (MRP 2026), NOW is 2026-03-02
REPEAT_DUE = 216_250


def marriage(documents: list[str] | None = None) -> dict[str, Any]:
    return act_application(
        "marriage_registration",
        documents=documents,
        subject=person("Сейітова", "Айгүл"),
        parties=[person("Жұмабаев", "Ерлан")],
    )


def with_duty(cmd: Submit, **changes: Any) -> Submit:
    import dataclasses

    return dataclasses.replace(cmd, **changes)


def codes(items: list[dict[str, Any]]) -> list[str]:
    return [d["code"] for d in items]


async def test_the_receipt_shows_the_duty_due_in_tiyn() -> None:
    uow = FakeIntakeUnitOfWork()
    result = await submit(submit_command(marriage(), DESK), uow)
    assert result.receipt is not None
    duty = result.receipt["state_duty"]
    assert (duty["amount_tiyn"], duty["mrp_multiple"], duty["exemption"], duty["payment"]) == (
        MARRIAGE_DUE,
        "0.5",
        None,
        None,
    )
    assert "Art. 610" in duty["basis"]


async def test_an_unpaid_duty_still_needs_the_paper_fee_receipt() -> None:
    uow = FakeIntakeUnitOfWork()
    body = marriage(documents=["application_form", "identity_documents_of_both"])
    result = await submit(submit_command(body, DESK), uow)
    assert result.refusal_receipt is not None
    assert codes(result.refusal_receipt["missing_documents"]) == ["fee_receipt"]


async def test_a_bank_payment_recorded_at_acceptance_spares_the_paper() -> None:
    uow = FakeIntakeUnitOfWork()
    body = marriage(documents=["application_form", "identity_documents_of_both"])
    paid = DutyPayment(
        method="bank", reference="PP-000123", bank="HSBKKZKX", paid_on=NOW.date(), amount_tiyn=MARRIAGE_DUE
    )
    result = await submit(with_duty(submit_command(body, DESK), payment=paid), uow)
    assert result.receipt is not None, result.refusal_receipt
    assert result.receipt["state_duty"]["payment"]["reference"] == "PP-000123"
    assert result.receipt["state_duty"]["amount_tiyn"] == MARRIAGE_DUE


async def test_a_bank_document_for_less_than_is_due_is_refused_naming_the_field() -> None:
    uow = FakeIntakeUnitOfWork()
    paid = DutyPayment(method="bank", reference="PP-1", bank="HSBKKZKX", paid_on=NOW.date(), amount_tiyn=100)
    with pytest.raises(errors.InvalidInput) as refused:
        await submit(with_duty(submit_command(marriage(), DESK), payment=paid), uow)
    assert refused.value.errors[0]["path"] == "body.state_duty.payment.amount_tiyn"
    assert uow.commits == 0


async def test_a_free_service_needs_no_fee_receipt_and_shows_zero() -> None:
    uow = FakeIntakeUnitOfWork()
    body = act_application(
        "death_registration",
        subject=person("Ахметов", "Ерлан"),
        facts={"died_on": (NOW.date() - dt.timedelta(days=3)).isoformat()},
    )
    result = await submit(submit_command(body, OPERATOR), uow)
    assert result.receipt is not None
    assert result.receipt["state_duty"]["amount_tiyn"] == 0


def repeat_birth(uow: FakeIntakeUnitOfWork, documents: list[str]) -> dict[str, Any]:
    uow.known_records.rows["r-birth"] = KnownRecord("r-birth", "birth", "B-1", None, "active", NOW)
    return act_application(
        "repeat_certificates",
        documents=documents,
        record_id="r-birth",
        record_kind="birth",
        document="repeat_certificate",
    )


async def test_an_exempt_repeat_birth_certificate_needs_its_document_not_the_fee_receipt() -> None:
    uow = FakeIntakeUnitOfWork()
    body = repeat_birth(uow, ["application_form", "identity_document", "exemption_document"])
    result = await submit(with_duty(submit_command(body), exemption="disability"), uow)
    assert result.receipt is not None, result.refusal_receipt
    duty = result.receipt["state_duty"]
    assert (duty["amount_tiyn"], duty["mrp_multiple"], duty["exemption"]) == (0, "0.5", "disability")


async def test_an_exemption_without_its_supporting_document_is_refused_acceptance() -> None:
    uow = FakeIntakeUnitOfWork()
    body = repeat_birth(uow, ["application_form", "identity_document"])
    result = await submit(with_duty(submit_command(body), exemption="disability"), uow)
    assert result.refusal_receipt is not None
    [missing] = result.refusal_receipt["missing_documents"]
    assert (missing["code"], missing["name"]) == ("exemption_document", "Справка об инвалидности")


async def test_an_exemption_s004_does_not_grant_is_refused_naming_the_field() -> None:
    uow = FakeIntakeUnitOfWork()
    with pytest.raises(errors.InvalidInput) as refused:
        await submit(with_duty(submit_command(marriage(), DESK), exemption="disability"), uow)
    assert refused.value.errors[0]["path"] == "body.state_duty.exemption"


async def test_without_an_exemption_a_repeat_certificate_is_due() -> None:
    uow = FakeIntakeUnitOfWork()
    body = repeat_birth(uow, ["application_form", "identity_document", "fee_receipt"])
    result = await submit(submit_command(body), uow)
    assert result.receipt is not None
    assert result.receipt["state_duty"]["amount_tiyn"] == REPEAT_DUE
