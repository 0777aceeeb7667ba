"""Reference data of the fee service, read once per process: the MRP table is the shared tariff's
(`civreg.duty`, ADR 0034), so the fee service and intake's quote use the same values."""

from __future__ import annotations

from functools import cache

from civreg import duty
from fees.domain.mrp import MrpTable, MrpValue


@cache
def mrp_table() -> MrpTable:
    """The MRP values of the shared tariff (`civreg/duty/tariff.yaml`)."""
    return MrpTable(
        values=[MrpValue(valid_from=v.valid_from, tenge=v.tenge, source=v.source) for v in duty.tariff().mrp]
    )
