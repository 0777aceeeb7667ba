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


def today() -> dt.date:
    """Today in Kazakhstan (Asia/Almaty, UTC+5): from 19:00 UTC it is already tomorrow there."""
    from btkernel.calendar import ALMATY

    return now().astimezone(ALMATY).date()
