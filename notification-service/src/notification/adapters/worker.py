"""The delivery worker: the delivery use case run in the background of each service process, on the kernel's
loop (`btkernel.loops`). Several processes may run it: claims skip rows another one holds."""

from __future__ import annotations

from btkernel.loops import Periodic
from notification.app.delivery import Delivery
from notification.app.sms_status import StatusChecks


def delivery_worker(delivery: Delivery, *, poll_interval_s: float) -> Periodic:
    """A pass every `poll_interval_s`, and the next one at once while passes fill whole batches (a backlog); a
    failing pass (database away) is logged and the next comes after the interval."""
    return Periodic(
        "notification-delivery",
        delivery.run_once,
        poll_interval_s,
        busy=lambda handled: handled >= delivery.batch_size,
        error_event="delivery_worker_error",
    )


def sms_status_worker(checks: StatusChecks, *, poll_interval_s: float) -> Periodic:
    """The SMS whose report never came (ADR 0038): a pass every `poll_interval_s`, at once again while passes fill
    whole batches. Safe with two instances: claims lease rows with SKIP LOCKED (ADR 0029)."""
    return Periodic(
        "notification-sms-status",
        checks.run_once,
        poll_interval_s,
        busy=lambda handled: handled >= checks.batch_size,
        error_event="sms_status_worker_error",
    )
