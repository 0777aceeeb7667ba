"""Fee computation: Decimal MRP, integer tiyn, the dated MRP table, free services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from civreg.catalogue import Fee
from fees import reference
from fees.domain import assessment, mrp
from fees.domain.mrp import MrpTable, MrpUnknown

RESTORATION = Fee(payable=True, amount_mrp="0.5", basis="S004 p.7: 0.5 MRP for certificates on restoration")
FREE = Fee(payable=False, amount_mrp="0", basis="free")


def test_the_shipped_table_has_the_configured_values() -> None:
    table = reference.mrp_table()
    assert table.on(dt.date(2025, 1, 1)).tenge == 3932
    assert table.on(dt.date(2025, 12, 31)).tenge == 3932
    assert table.on(dt.date(2026, 1, 1)).tenge == 4325
    assert table.on(dt.date(2030, 6, 1)).tenge == 4325  # the last value stays in force until a newer row
    assert "configuration" in table.on(dt.date(2026, 1, 1)).source


def test_half_an_mrp_in_tiyn_per_year() -> None:
    table = reference.mrp_table()
    a2025 = assessment.assess(RESTORATION, dt.date(2025, 11, 3), table)
    assert (a2025.payable, a2025.amount_mrp, a2025.amount_tiyn) == (True, Decimal("0.5"), 196_600)
    assert a2025.amount_mrp_text == "0.5"
    assert "3932 tenge" in a2025.basis
    assert "S004 p.7" in a2025.basis
    assert assessment.assess(RESTORATION, dt.date(2026, 1, 1), table).amount_tiyn == 216_250


def test_a_free_service_costs_nothing_and_needs_no_mrp_value() -> None:
    a = assessment.assess(FREE, dt.date(1999, 1, 1), reference.mrp_table())
    assert (a.payable, a.amount_mrp_text, a.amount_tiyn, a.mrp) == (False, "0", 0, None)


def test_a_payable_duty_before_the_table_starts_cannot_be_priced() -> None:
    with pytest.raises(MrpUnknown):
        assessment.assess(RESTORATION, dt.date(2024, 12, 31), reference.mrp_table())


def test_rounding_is_half_up_to_the_whole_tiyn() -> None:
    value = mrp.MrpValue(valid_from=dt.date(2025, 1, 1), tenge=3932, source="t")
    # 0.00125 MRP × 3932 tenge = 4.915 tenge = 491.5 tiyn → 492
    assert assessment.to_tiyn(Decimal("0.00125"), value) == 492
    assert assessment.to_tiyn(Decimal("0.001"), value) == 393  # 393.2 → 393


def test_mrp_text_is_plain_decimal() -> None:
    assert [assessment.format_mrp(Decimal(x)) for x in ("0.50", "2", "10", "0", "0.125")] == [
        "0.5",
        "2",
        "10",
        "0",
        "0.125",
    ]


@pytest.mark.parametrize("bad", ["abc", "-1", "NaN", "Infinity", "0.00001"])
def test_an_unreadable_catalogue_amount_is_refused(bad: str) -> None:
    with pytest.raises(assessment.InvalidFee):
        assessment.assess(
            Fee(payable=True, amount_mrp=bad, basis="x"), dt.date(2025, 1, 1), reference.mrp_table()
        )


def test_the_table_refuses_floats_and_disorder() -> None:
    with pytest.raises(ValidationError):
        MrpTable.model_validate({"values": [{"valid_from": "2025-01-01", "tenge": 3932.5, "source": "x"}]})
    with pytest.raises(ValidationError):
        MrpTable.model_validate(
            {
                "values": [
                    {"valid_from": "2026-01-01", "tenge": 4325, "source": "x"},
                    {"valid_from": "2025-01-01", "tenge": 3932, "source": "x"},
                ]
            }
        )
