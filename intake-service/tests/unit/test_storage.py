"""The centre's storage as use cases on the fake unit of work: kept one month, returned to the office (by the
operator or the sweep, once), recalled within one working day (S004 p.9)."""

from __future__ import annotations

import datetime as dt

import pytest
from intake_commands import NOW, OPERATOR, born_yesterday, submit_command
from intake_fakes import FakeIntakeUnitOfWork

from btdeploy.samples import birth_application
from btkernel import errors
from btkernel.context import RequestContext
from civreg.calendar import ALMATY
from civreg.events.case import ResultSentToCentre
from intake.app import storage
from intake.app.handover import receive_result
from intake.app.storage_sweep import sweep
from intake.app.submit import submit

RECEIVED = NOW + dt.timedelta(days=3)  # Thursday 2026-03-05


async def _waiting(uow: FakeIntakeUnitOfWork) -> str:
    result = await submit(submit_command(birth_application(born=born_yesterday())), uow)
    sent = ResultSentToCentre(
        case_id=f"case-{result.application_id}",
        application_id=result.application_id,
        centre_id="almaty-con-1",
        outcome="registered",
        record_number="N-1",
        sent_at=RECEIVED,
        sent_by="chancellery1",
    )
    await receive_result(sent, RequestContext(correlation_id="unit"), RECEIVED, uow)
    return result.application_id


def _step(application_id: str, at: dt.datetime) -> storage.StorageStep:
    return storage.StorageStep(
        application_id=application_id, actor=OPERATOR, ctx=RequestContext(correlation_id="unit"), now=at
    )


async def test_a_result_is_kept_one_month_then_returned_and_recalled() -> None:
    uow = FakeIntakeUnitOfWork()
    application_id = await _waiting(uow)
    with pytest.raises(errors.RuleViolation) as early:
        await storage.return_to_registry(_step(application_id, RECEIVED + dt.timedelta(days=27)), uow)
    assert early.value.code == "too_early"
    assert uow.applications.rows[application_id].status == "ready_for_pickup"
    month_on = RECEIVED + dt.timedelta(days=31)  # Sunday 2026-04-05
    returned = await storage.return_to_registry(_step(application_id, month_on), uow)
    assert returned.status == "returned_to_registry"
    recall = await storage.request_recall(_step(application_id, month_on), uow)
    # Asked on a Sunday: due by the end of the office's next working day, Monday.
    assert recall.status == "recall_requested"
    assert recall.recall_due_at is not None
    assert recall.recall_due_at.astimezone(ALMATY).date() == dt.date(2026, 4, 6)
    with pytest.raises(errors.RuleViolation):
        await storage.request_recall(_step(application_id, month_on), uow)
    back = await storage.receive_recalled(_step(application_id, month_on + dt.timedelta(days=1)), uow)
    assert (back.status, back.recall_due_at) == ("ready_for_pickup", None)


async def test_another_centre_cannot_touch_the_result() -> None:
    uow = FakeIntakeUnitOfWork()
    application_id = await _waiting(uow)
    step = _step(application_id, RECEIVED + dt.timedelta(days=40))
    stranger = storage.StorageStep(
        application_id=application_id,
        actor=OPERATOR.__class__(id="op-9", name="x", role="centre_operator", site="astana-yesil-con-1"),
        ctx=step.ctx,
        now=step.now,
    )
    with pytest.raises(errors.NotFound):
        await storage.return_to_registry(stranger, uow)
    assert uow.applications.rows[application_id].status == "ready_for_pickup"


async def test_the_sweep_returns_what_waited_a_month_once() -> None:
    uow = FakeIntakeUnitOfWork()
    ids = [await _waiting(uow) for _ in range(2)]
    assert await sweep(lambda: uow, RECEIVED + dt.timedelta(days=20)) == 0
    assert await sweep(lambda: uow, RECEIVED + dt.timedelta(days=32)) == 2
    assert await sweep(lambda: uow, RECEIVED + dt.timedelta(days=40)) == 0
    for application_id in ids:
        assert uow.applications.rows[application_id].status == "returned_to_registry"
        assert (
            uow.events.types(application_id).count("kz.civreg.application.result-returned-to-registry.v1")
            == 1
        )
