"""The result's way back, as use cases on the fake unit of work: received from the registry office, told to the
portal applicant, handed over against the receipt and an identity document only where it waits (S002 p.9)."""

from __future__ import annotations

import datetime as dt

import pytest
from intake_commands import DESK, NOW, OPERATOR, PORTAL, born_yesterday, submit_command
from intake_fakes import FakeIntakeUnitOfWork

from btdeploy.samples import birth_application, eds_signature
from btkernel import errors
from btkernel.context import Actor, RequestContext
from civreg.events.case import RegistrationDateAssigned, ResultSentToCentre
from intake.app.handover import HandOver, hand_over, receive_result, tell_date_assigned
from intake.app.submit import submit

CTX = RequestContext(correlation_id="unit")
LATER = NOW + dt.timedelta(days=5)


async def _submitted(uow: FakeIntakeUnitOfWork, actor: Actor = OPERATOR) -> tuple[str, str, str]:
    """An accepted application: its id, receipt number and applicant's IIN."""
    body = birth_application(born=born_yesterday())
    if actor is PORTAL:
        body["registry_office_id"] = "almaty-almaly"
        body["signature"] = eds_signature(body["applicant"]["iin"])
    result = await submit(submit_command(body, actor), uow)
    assert result.receipt is not None
    return result.application_id, result.receipt["number"], body["applicant"]["iin"]


def _sent(
    application_id: str, centre_id: str = "almaty-con-1", refusal: str | None = None
) -> ResultSentToCentre:
    return ResultSentToCentre(
        case_id=f"case-{application_id}",
        application_id=application_id,
        centre_id=centre_id,
        outcome="refused" if refusal else "registered",
        record_number=None if refusal else "N-1",
        sent_at=LATER,
        sent_by="chancellery1",
        refusal_reason=refusal,
    )


def _hand_over(application_id: str, receipt: str, iin: str, actor: Actor = OPERATOR) -> HandOver:
    return HandOver(
        application_id=application_id,
        receipt_number=receipt,
        identity_document_iin=iin,
        actor=actor,
        ctx=CTX,
        now=LATER + dt.timedelta(hours=1),
    )


async def test_a_received_result_waits_for_pickup_and_is_handed_over_to_the_applicant() -> None:
    uow = FakeIntakeUnitOfWork()
    application_id, receipt, iin = await _submitted(uow)
    await receive_result(_sent(application_id), CTX, LATER, uow)
    row = uow.applications.rows[application_id]
    assert (row.status, row.record_number, row.result_received_at) == ("ready_for_pickup", "N-1", LATER)
    # The same result delivered again changes nothing.
    versions = len(uow.events.streams[application_id])
    await receive_result(_sent(application_id), CTX, LATER + dt.timedelta(minutes=1), uow)
    assert len(uow.events.streams[application_id]) == versions
    issued = await hand_over(_hand_over(application_id, receipt, iin), uow)
    assert issued.status == "issued"
    assert uow.applications.rows[application_id].status == "issued"
    assert uow.events.types(application_id)[-1] == "kz.civreg.application.result-issued.v1"


async def test_a_wrong_identity_document_is_refused_and_nothing_is_recorded() -> None:
    uow = FakeIntakeUnitOfWork()
    application_id, receipt, iin = await _submitted(uow)
    await receive_result(_sent(application_id), CTX, LATER, uow)
    before = list(uow.events.streams[application_id])
    with pytest.raises(errors.RuleViolation) as refused:
        await hand_over(_hand_over(application_id, receipt, "000000000000"), uow)
    assert refused.value.code == "identity_mismatch"
    with pytest.raises(errors.RuleViolation) as refused:
        await hand_over(_hand_over(application_id, "WRONG-1", iin), uow)
    assert refused.value.errors[0]["path"] == "body.receipt_number"
    assert uow.events.streams[application_id] == before
    assert uow.applications.rows[application_id].status == "ready_for_pickup"


async def test_the_result_is_handed_over_only_where_it_waits() -> None:
    uow = FakeIntakeUnitOfWork()
    application_id, receipt, iin = await _submitted(uow)
    await receive_result(_sent(application_id), CTX, LATER, uow)
    # The office sees the application (it was sent there) but the result waits at the centre.
    with pytest.raises(errors.NotFound, match="not handed over at your site"):
        await hand_over(_hand_over(application_id, receipt, iin, DESK), uow)
    other_centre = Actor("op-2", "Оператор", "centre_operator", "almaty-con-2")
    with pytest.raises(errors.NotFound, match="at your site"):
        await hand_over(_hand_over(application_id, receipt, iin, other_centre), uow)
    with pytest.raises(errors.NotFound):
        await hand_over(_hand_over("no-such-application", receipt, iin), uow)


async def test_the_portal_applicant_hears_of_the_date_and_of_a_reasoned_refusal() -> None:
    uow = FakeIntakeUnitOfWork()
    application_id, _, _ = await _submitted(uow, PORTAL)
    assigned = RegistrationDateAssigned(
        case_id=f"case-{application_id}",
        application_id=application_id,
        channel="portal",
        registration_on=dt.date(2026, 3, 20),
        assigned_at=LATER,
        assigned_by="executive1",
    )
    await tell_date_assigned(assigned, CTX, LATER, uow)
    await receive_result(_sent(application_id, "almaty-almaly", refusal="no grounds"), CTX, LATER, uow)
    notes = await uow.cabinet.notifications(application_id, None, 10)
    assert [n["kind"] for n in notes] == ["accepted", "date_assigned", "refused"]
    assert "20.03.2026" in notes[1]["text"]
    assert notes[2]["refusal_reason"] == "no grounds"
    # A date assigned on an application of another channel tells nobody.
    centre_id, _, _ = await _submitted(uow)
    await tell_date_assigned(
        assigned.model_copy(update={"application_id": centre_id, "channel": "state_corporation"}),
        CTX,
        LATER,
        uow,
    )
    assert await uow.cabinet.notifications(centre_id, None, 10) == []
