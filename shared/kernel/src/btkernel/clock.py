"""The service's clock: real time, optionally shifted by BT_CLOCK_OFFSET_S.

The shift exists for end-to-end tests of terms measured in weeks and months (a marriage is registered no earlier
than a month after the application): a test restarts one service a month ahead instead of waiting a month.
Settings refuse a shift in production.
"""

from __future__ import annotations

import datetime as dt

_offset = dt.timedelta(0)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + _offset


def set_offset(seconds: float) -> None:
    global _offset
    _offset = dt.timedelta(seconds=seconds)


def offset_s() -> float:
    return _offset.total_seconds()


def travel_to(moment: dt.datetime) -> None:
    """Shift the clock so that `now()` is `moment` at this instant (and runs on from there).

    Tests that open a case on a fixed date and then read times left must read them at a fixed moment too: against
    the real clock the same assertion holds on the day it was written and fails a week later.
    """
    if moment.tzinfo is None:
        raise ValueError("travel_to needs a time-zone aware moment")
    set_offset((moment - dt.datetime.now(dt.UTC)).total_seconds())


def today(zone: dt.tzinfo) -> dt.date:
    """Today in `zone` (the platform's is `civreg.calendar.ALMATY`, UTC+5: from 19:00 UTC it is already tomorrow
    there). The zone is the caller's: the kernel knows no country."""
    return now().astimezone(zone).date()
