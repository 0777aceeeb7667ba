"""A Kyrgyz centre's application (ADR 0039) is assessed on the Kyrgyz edition in som, never the Kazakh tariff in
tenge; the e-government payment gateway (tenge) is not offered for it. Every date fixed."""

from __future__ import annotations

import datetime as dt

import pytest
from fee_factories import MemoryStore, envelope, submitted

from btkernel.errors import InvalidInput
from civreg import catalogue, duty
from civreg.events.fee import FeeAssessed
from fees.app import assess, payments
from fees.app.payments import StartPayment
from fees.domain.decision import ASSESSED

KG_CENTRE, KG_OFFICE = "kg-sokuluk-belek", "kg-sokuluk"
# 23:30 in Bishkek on 1 March 2026 is 17:30 UTC: the Kyrgyz edition's date is Bishkek's.
AT = dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC)
SOM_150 = 15_000


def _kyrgyz_marriage_costs(monkeypatch: pytest.MonkeyPatch, tyiyn: int) -> None:
    """The shipped Kyrgyz amount is 0 until configured: a catalogue whose Kyrgyz marriage costs `tyiyn`."""
    shipped = catalogue.load()
    services = [
        s.model_copy(update={"fee": s.fee.model_copy(update={"amount_minor": tyiyn})})
        if (s.id, s.country) == ("marriage_registration", "KG")
        else s
        for s in shipped.services
    ]
    patched = shipped.model_copy(update={"services": services})
    monkeypatch.setattr(catalogue, "load", lambda: patched)


async def _assess(service_id: str = "marriage_registration") -> tuple[MemoryStore, FeeAssessed]:
    store = MemoryStore()
    event = submitted(
        service_id=service_id, submitted_at=AT, centre_id=KG_CENTRE, registry_office_id=KG_OFFICE
    )
    fee = await assess.apply(envelope(event), store, now=AT)
    assert fee is not None
    return store, fee


async def test_a_kyrgyz_marriage_is_decided_in_som_from_the_kyrgyz_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _kyrgyz_marriage_costs(monkeypatch, SOM_150)
    store, fee = await _assess()
    (decision,) = store.decisions.values()
    assert decision.kind == ASSESSED
    assert (decision.currency, decision.amount_tiyn, decision.payable) == ("KGS", SOM_150, True)
    # No MRP: the Kazakh tariff (0.5 MRP = 2162.50 tenge in 2026) played no part.
    assert (decision.amount_mrp, decision.mrp_value_tiyn, decision.mrp_valid_from) == (0, None, None)
    assert decision.assessed_on == dt.date(2026, 3, 1)
    assert decision.service_valid_from == dt.date(2016, 12, 1)
    assert "[KGS]" in decision.basis
    assert "Art. 610" not in decision.basis
    assert (fee.currency, fee.amount_tiyn, fee.amount_mrp) == ("KGS", SOM_150, "0")
    ((_, out),) = store.outbox
    assert out.data["currency"] == "KGS"


async def test_the_shipped_kyrgyz_amount_is_zero_som_not_the_kazakh_duty() -> None:
    _, fee = await _assess()
    kazakh = duty.tariff().quote("marriage_registration", dt.date(2026, 3, 1), variant="marriage")
    assert kazakh.amount_tiyn > 0
    assert (fee.currency, fee.amount_tiyn, fee.payable) == ("KGS", 0, False)


async def test_a_kazakh_marriage_stays_in_tenge_by_the_tariff() -> None:
    store = MemoryStore()
    event = submitted(service_id="marriage_registration", submitted_at=AT)
    fee = await assess.apply(envelope(event), store, now=AT)
    assert fee is not None
    assert (fee.currency, fee.amount_tiyn, fee.amount_mrp) == ("KZT", 216_250, "0.5")


def test_an_old_fee_event_without_currency_reads_as_tenge() -> None:
    old = FeeAssessed(
        application_id="a",
        service_id="marriage_registration",
        assessed_at=AT,
        payable=True,
        amount_mrp="0.5",
        amount_tiyn=216_250,
        basis="x",
    ).to_data()
    del old["currency"]
    assert FeeAssessed.model_validate(old).currency == "KZT"


def test_the_payment_gateway_is_not_offered_for_a_duty_in_som(monkeypatch: pytest.MonkeyPatch) -> None:
    _kyrgyz_marriage_costs(monkeypatch, SOM_150)
    cmd = StartPayment(
        payment_id="p-1",
        service_id="marriage_registration",
        site_id=KG_CENTRE,
        registry_office_id=KG_OFFICE,
        variant=None,
        record_kind=None,
        on=dt.date(2026, 3, 2),
        now=AT,
        correlation_id=None,
        actor=None,
    )
    with pytest.raises(InvalidInput) as refused:
        payments.quote(cmd)
    assert refused.value.errors[0]["path"] == "body.service_id"
    assert "KGS" in str(refused.value)
