"""The state-duty tariff (`civreg.duty`, ADR 0034): Decimal MRP, integer tiyn, the dated MRP table and rates,
exemptions of S004 p.7 — every date fixed, none from today."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from civreg import duty
from fees import reference
from fees.domain import assessment
from fees.domain.mrp import MrpTable, MrpUnknown

TARIFF = duty.tariff()


def test_the_shipped_table_has_the_configured_values() -> None:
    table = reference.mrp_table()
    assert table.on(dt.date(2025, 1, 1)).tenge == 3932
    assert table.on(dt.date(2025, 12, 31)).tenge == 3932
    assert table.on(dt.date(2026, 1, 1)).tenge == 4325
    assert table.on(dt.date(2030, 6, 1)).tenge == 4325  # the last value stays in force until a newer row
    assert [v.tenge for v in TARIFF.mrp] == [v.tenge for v in table.values]  # one table, not two


def test_half_an_mrp_of_marriage_in_tiyn_per_year() -> None:
    q2025 = TARIFF.quote("marriage_registration", dt.date(2025, 12, 31), variant="marriage")
    q2026 = TARIFF.quote("marriage_registration", dt.date(2026, 1, 1), variant="marriage")
    assert (q2025.amount_tiyn, q2026.amount_tiyn) == (196_600, 216_250)
    assert (q2026.mrp_multiple, q2026.mrp_value_tiyn, q2026.mrp_valid_from) == (
        "0.5",
        432_500,
        dt.date(2026, 1, 1),
    )
    assert "Art. 610" in q2026.basis
    assert "4325 tenge" in q2026.basis
    assert q2026.to_check  # not in the sources: configuration to check


def test_the_variant_selects_the_rate() -> None:
    on = dt.date(2026, 3, 2)
    assert TARIFF.quote("divorce_registration", on, variant="mutual_consent_no_minors").amount_tiyn == 865_000
    assert (
        TARIFF.quote(
            "divorce_registration", on, variant="spouse_missing_incapacitated_or_imprisoned"
        ).amount_tiyn
        == 86_500
    )
    assert TARIFF.quote("birth_registration", on, variant="amendment").amount_tiyn == 129_750
    assert TARIFF.quote("marriage_registration", on, variant="amendment").mrp_multiple == "0.3"


def test_free_services_cost_nothing_and_need_no_mrp_value() -> None:
    for service in ("birth_registration", "death_registration", "annulment_of_records"):
        q = TARIFF.quote(service, dt.date(1999, 1, 1))
        assert (q.amount_tiyn, q.mrp_multiple, q.payable, q.mrp_value_tiyn) == (0, "0", False, None)


def test_restoration_certificates_follow_the_edition_of_the_filing_date() -> None:
    # S004 p.7: 0.5 MRP until 2019-11-02; the 2019 edition has no fee clause (catalogue contradictions).
    before = TARIFF.quote("restoration_of_records", dt.date(2019, 11, 2), record_kind="birth")
    after = TARIFF.quote("restoration_of_records", dt.date(2019, 11, 3), record_kind="birth")
    assert (before.amount_tiyn, after.amount_tiyn) == (126_250, 0)
    assert before.basis.startswith("S004 p.7")
    assert before.to_check  # the rate is the source's, the 2019 MRP value configuration to check


def test_an_exemption_makes_the_duty_zero_and_keeps_the_multiple() -> None:
    on = dt.date(2026, 3, 2)
    paid = TARIFF.quote("repeat_certificates", on, record_kind="birth")
    exempt = TARIFF.quote("repeat_certificates", on, record_kind="birth", exemption="disability")
    assert paid.amount_tiyn == 216_250
    assert (exempt.amount_tiyn, exempt.mrp_multiple, exempt.exemption) == (0, "0.5", "disability")
    assert "S004 p.7(1)" in exempt.basis


def test_an_exemption_applies_only_where_s004_grants_it() -> None:
    on = dt.date(2026, 3, 2)
    # The grounds of p.7(1) cover repeat BIRTH certificates only.
    with pytest.raises(duty.NotExempt, match="offered: none"):
        TARIFF.quote("repeat_certificates", on, record_kind="marriage", exemption="disability")
    with pytest.raises(duty.NotExempt):
        TARIFF.quote("marriage_registration", on, variant="marriage", exemption="war_participant")
    with pytest.raises(duty.NotExempt):
        TARIFF.quote("repeat_certificates", on, record_kind="birth", exemption="no_such_ground")
    assert {e.code for e in TARIFF.exemptions_for("restoration_of_records", "death")} == {
        "registration_error"
    }


def test_every_exemption_names_its_supporting_document() -> None:
    assert len(TARIFF.exemptions) == 8
    for e in TARIFF.exemptions:
        assert e.document.ru
        assert e.document.en
        assert e.source.startswith("S004 p.7")


def test_a_payable_duty_before_the_table_starts_cannot_be_priced() -> None:
    with pytest.raises(LookupError):
        TARIFF.quote("restoration_of_records", dt.date(2017, 12, 31), record_kind="birth")
    with pytest.raises(MrpUnknown):
        reference.mrp_table().on(dt.date(2017, 12, 31))


def test_rounding_is_half_up_to_the_whole_tiyn() -> None:
    value = duty.MrpValue(valid_from=dt.date(2025, 1, 1), tenge=3932, source="t")
    # 0.00125 MRP × 3932 tenge = 4.915 tenge = 491.5 tiyn → 492
    assert duty.to_tiyn(Decimal("0.00125"), value) == 492


def test_mrp_text_is_plain_decimal() -> None:
    assert [assessment.format_mrp(Decimal(x)) for x in ("0.50", "2", "10", "0", "0.125")] == [
        "0.5",
        "2",
        "10",
        "0",
        "0.125",
    ]


@pytest.mark.parametrize("bad", ["abc", "-1", "NaN", "Infinity", "0.00001"])
def test_an_unreadable_tariff_amount_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        duty.Rate(service_id="x", amount_mrp=bad, basis="x", valid_from=dt.date(2025, 1, 1))


def test_the_tables_refuse_floats_and_disorder() -> None:
    with pytest.raises(ValidationError):
        MrpTable.model_validate({"values": [{"valid_from": "2025-01-01", "tenge": 3932.5, "source": "x"}]})
    two = [
        {"valid_from": "2026-01-01", "tenge": 4325, "source": "x"},
        {"valid_from": "2025-01-01", "tenge": 3932, "source": "x"},
    ]
    with pytest.raises(ValidationError):
        MrpTable.model_validate({"values": two})
    with pytest.raises(ValidationError):
        duty.Tariff.model_validate({"mrp": two, "rates": [], "exemptions": []})
