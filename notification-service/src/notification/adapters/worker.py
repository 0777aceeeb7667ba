"""The delivery worker: the delivery use case run in the background of each service process, on the kernel's
loop (`btkernel.loops`). Several processes may run it: claims skip rows another one holds."""

from __future__ import annotations

from btkernel.loops import Periodic
from notification.app.delivery import Delivery


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
