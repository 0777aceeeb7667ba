"""What the fee service adds to the shared tariff (`civreg.duty`, ADR 0034): the date a duty is judged on, and
amounts as text — Decimal and integer tiyn, never a float."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from civreg.duty import format_mrp, format_tenge

__all__ = ["duty_date", "format_mrp", "format_tenge"]


def duty_date(submitted_at: dt.datetime, timezone: ZoneInfo) -> dt.date:
    """The duty is that of the local date of submission: the catalogue edition and the MRP value in force where
    the application was filed, on that day (at 01:00 on 1 January in Almaty the new year's MRP applies, although it
    is still 31 December in UTC)."""
    return submitted_at.astimezone(timezone).date()
