"""Fee decisions (topic civreg.fee, subject = application id)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

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
    # Whose hundredths `amount_tiyn` counts (ADR 0039): a Kyrgyz edition's duty is in som (tyiyn), no MRP;
    # events written before it was kept are tenge.
    currency: Literal["KZT", "KGS"] = "KZT"


class DutyPaymentRecorded(Event):
    """A payment of the state duty became known (ADR 0034): a payment created at the e-government payment gateway
    (`method` payment_gateway, `status` created) or a bank's payment document recorded by the operator (`bank`,
    `status` recorded, confirmed later by the bank statement). Subject = payment id."""

    TYPE: ClassVar[str] = "kz.civreg.fee.payment-recorded.v1"
    TOPIC: ClassVar[str] = topics.FEE
    payment_id: str
    method: str
    status: str
    service_id: str
    site_id: str
    application_id: str | None = None
    amount_tiyn: int
    reference: str
    recorded_at: dt.datetime


class DutyPaymentConfirmed(Event):
    """The money arrived: the payment gateway's signed notice (or its status answer) says paid, or a bank
    statement entry matched the recorded document. Amounts in tiyn. Subject = payment id."""

    TYPE: ClassVar[str] = "kz.civreg.fee.payment-confirmed.v1"
    TOPIC: ClassVar[str] = topics.FEE
    payment_id: str
    method: str
    application_id: str | None = None
    amount_tiyn: int
    reference: str
    confirmed_by: str
    confirmed_at: dt.datetime


class DutyPaymentFailed(Event):
    """The payment gateway says the applicant's payment failed or was cancelled; nothing was paid."""

    TYPE: ClassVar[str] = "kz.civreg.fee.payment-failed.v1"
    TOPIC: ClassVar[str] = topics.FEE
    payment_id: str
    application_id: str | None = None
    reason: str
    failed_at: dt.datetime
