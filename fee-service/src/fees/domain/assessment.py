"""Fee computation: the catalogue's duty in MRP turned into tiyn at the MRP value in force — Decimal, never float."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from civreg.catalogue import Fee
from fees.domain.mrp import MrpTable, MrpValue

_TIYN_PER_TENGE = 100
_MRP_DECIMALS = 4


class InvalidFee(ValueError):
    """The catalogue's fee entry cannot be read as an amount."""


@dataclass(frozen=True)
class Assessment:
    payable: bool
    amount_mrp: Decimal
    amount_tiyn: int
    mrp: MrpValue | None
    basis: str

    @property
    def amount_mrp_text(self) -> str:
        return format_mrp(self.amount_mrp)


def parse_mrp(text: str) -> Decimal:
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise InvalidFee(f"fee amount {text!r} is not a decimal number of MRP") from exc
    if not amount.is_finite() or amount < 0:
        raise InvalidFee(f"fee amount {text!r} must be a finite, non-negative number of MRP")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_MRP_DECIMALS:
        # The table keeps numeric(12,4): a finer amount would be stored rounded and disagree with the event.
        raise InvalidFee(f"fee amount {text!r} has more than {_MRP_DECIMALS} decimal places")
    return amount


def format_mrp(amount: Decimal) -> str:
    """Plain decimal notation without trailing zeros ("0.5", "2", never "5E-1")."""
    return f"{amount.normalize():f}" if amount else "0"


def format_tenge(tiyn: int) -> str:
    """Tenge with two decimals ("2162.50"), from the integer tiyn — never through a float."""
    return str((Decimal(tiyn) / _TIYN_PER_TENGE).quantize(Decimal("0.01")))


def duty_date(submitted_at: dt.datetime, timezone: ZoneInfo) -> dt.date:
    """The duty is that of the local date of submission: the catalogue edition and the MRP value in force where
    the application was filed, on that day (at 01:00 on 1 January in Almaty the new year's MRP applies, although it
    is still 31 December in UTC)."""
    return submitted_at.astimezone(timezone).date()


def to_tiyn(amount_mrp: Decimal, mrp: MrpValue) -> int:
    # The result is rounded to the whole tiyn, half up, once, at the end.
    exact = amount_mrp * mrp.tenge * _TIYN_PER_TENGE
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def assess(fee: Fee, on: dt.date, mrps: MrpTable) -> Assessment:
    """The duty due for an application submitted on `on` under the catalogue's `fee` entry."""
    amount = parse_mrp(fee.amount_mrp)
    if not fee.payable or amount == 0:
        # Free services need no MRP value, so they are decided even for dates the table does not cover.
        return Assessment(payable=False, amount_mrp=Decimal(0), amount_tiyn=0, mrp=None, basis=fee.basis)
    mrp = mrps.on(on)
    tiyn = to_tiyn(amount, mrp)
    basis = (
        f"{fee.basis}; {format_mrp(amount)} MRP × {mrp.tenge} tenge (MRP in force from "
        f"{mrp.valid_from.isoformat()}, {mrp.source})"
    )
    return Assessment(payable=True, amount_mrp=amount, amount_tiyn=tiyn, mrp=mrp, basis=basis)
