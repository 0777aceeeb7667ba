"""The consumer's handler with an in-memory store: decision and FeeAssessed together, once per application."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fee_factories import MemoryStore, envelope, submitted

from civreg import topics
from fees.app import assess

NOW = dt.datetime(2025, 11, 3, 6, 0, tzinfo=dt.UTC)


async def test_birth_registration_is_free_and_announced() -> None:
    store = MemoryStore()
    event = submitted()
    env = envelope(event)
    fee = await assess.apply(env, store, actor="system:fee", now=NOW)
    assert fee is not None
    assert (fee.payable, fee.amount_mrp, fee.amount_tiyn) == (False, "0", 0)
    [decision] = store.decisions.values()
    assert decision.application_id == event.application_id
    assert decision.assessed_on == dt.date(2025, 11, 3)
    assert (decision.centre_id, decision.registry_office_id) == ("almaty-con-1", "almaty-almaly")
    [(topic, out)] = store.outbox
    assert topic == topics.FEE
    assert out.type == "kz.civreg.fee.assessed.v1"
    assert out.subject == event.application_id
    assert out.id == decision.event_id
    assert out.correlation_id == "corr-fee"
    assert out.causation_id == env.id
    assert out.actor == "system:fee"
    assert out.data["amount_tiyn"] == 0
    assert out.data["amount_mrp"] == "0"
    assert out.data["payable"] is False


async def test_an_application_is_assessed_once() -> None:
    store = MemoryStore()
    event = submitted()
    assert await assess.apply(envelope(event), store, now=NOW) is not None
    assert await assess.apply(envelope(event), store, now=NOW) is None
    assert len(store.decisions) == 1
    assert len(store.outbox) == 1


async def test_a_payable_service_uses_the_mrp_of_the_local_submission_date() -> None:
    store = MemoryStore()
    # 31 Dec 2025 20:00 UTC is already 1 Jan 2026 in Almaty: the 2026 MRP applies to marriage's 0.5 MRP.
    event = submitted(
        service_id="marriage_registration", submitted_at=dt.datetime(2025, 12, 31, 20, 0, tzinfo=dt.UTC)
    )
    fee = await assess.apply(envelope(event), store, now=NOW)
    assert fee is not None
    assert (fee.payable, fee.amount_mrp, fee.amount_tiyn) == (True, "0.5", 216_250)
    [decision] = store.decisions.values()
    assert decision.mrp_value_tiyn == 432_500
    assert decision.mrp_valid_from == dt.date(2026, 1, 1)
    assert decision.exemption is None


async def test_an_exemption_granted_at_intake_makes_the_decision_zero() -> None:
    store = MemoryStore()
    details = {"record_id": "ab-2020-0001", "document": "repeat_certificate", "record_kind": "birth"}
    event = submitted(service_id="repeat_certificates", exemption="disability", details=details)
    fee = await assess.apply(envelope(event), store, now=NOW)
    assert fee is not None
    assert (fee.payable, fee.amount_tiyn) == (False, 0)
    [decision] = store.decisions.values()
    assert decision.exemption == "disability"
    assert "exempt: disability" in decision.basis


async def test_an_exemption_the_tariff_does_not_grant_is_charged() -> None:
    store = MemoryStore()
    event = submitted(service_id="marriage_registration", exemption="disability")
    fee = await assess.apply(envelope(event), store, now=NOW)
    assert fee is not None
    assert (fee.payable, fee.amount_tiyn) == (True, 196_600)  # 0.5 × 3932 tenge on 2025-11-03


async def test_an_unknown_service_is_an_error_for_the_dead_letter_topic() -> None:
    with pytest.raises(assess.UnknownService):
        await assess.apply(envelope(submitted(service_id="no_such_service")), MemoryStore(), now=NOW)


async def test_the_decision_is_timed_by_the_services_clock(
    clock_at: Callable[[dt.datetime], None],
) -> None:
    # Without an explicit `now`, the moment comes from btkernel.clock, which tests (and BT_CLOCK_OFFSET_S) move.
    moment = dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC)
    clock_at(moment)
    store = MemoryStore()
    fee = await assess.apply(envelope(submitted()), store)
    assert fee is not None
    assert abs((fee.assessed_at - moment).total_seconds()) < 60
    [decision] = store.decisions.values()
    assert decision.assessed_at == fee.assessed_at
    [(_, out)] = store.outbox
    assert dt.datetime.fromisoformat(out.data["assessed_at"]) == fee.assessed_at
