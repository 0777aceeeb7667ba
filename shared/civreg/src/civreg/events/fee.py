"""Fee decisions (topic civreg.fee, subject = application id)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from btkernel.events.base import Event
from civreg import topics


class FeeAssessed(Event):
    """The state duty due for an application was decided. Amounts are in MRP as a decimal string (no floats for
    money) and in tiyn (1/100 tenge) at the MRP value of the assessment date."""

    TYPE: ClassVar[str] = "kz.civreg.fee.assessed.v1"
    TOPIC: ClassVar[str] = topics.FEE
    application_id: str
    service_id: str
    assessed_at: dt.datetime
    payable: bool
    amount_mrp: str
    amount_tiyn: int
    basis: str
