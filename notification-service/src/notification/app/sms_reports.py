"""Use case: take the SMS provider's delivery report (ADR 0038), whose signature the route has checked. The report
settles the message once: `delivered` with NotificationDelivered, `failed` with the provider's reason and
NotificationFailed, or — for a failure that may pass (phone off) while attempts remain — the text goes again in a
new round after the backoff. A report again, or one of an earlier round, changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from btkernel import logging as btlog
from notification.app.delivery import Outbox, announce_delivered, announce_failed
from notification.domain.delivery import RetryPolicy, error_text
from notification.domain.notification import PENDING, SENT, SMS, Notification
from notification.domain.sms_reports import (
    DELIVERED,
    FAILED_FOR_GOOD,
    INTERIM,
    DeliveryReport,
    UnreadableReport,
    parse_reference,
    verdict,
)

log = btlog.get(__name__)

# What take_report answers, for the provider and the log.
RECORDED_DELIVERED = "delivered"
RECORDED_FAILED = "failed"
SENT_AGAIN = "sent_again"
NOTED = "interim"
DUPLICATE = "duplicate"


class ReportLog(Outbox, Protocol):
    """The delivery log in the report's transaction."""

    async def get_for_report(self, notification_id: str) -> Notification | None:
        """The row, locked until the transaction ends (a report and the worker's `record_sent` may race)."""
        ...

    async def record_delivered(self, n: Notification, at: dt.datetime) -> bool: ...

    async def record_failed(self, n: Notification, error: str, at: dt.datetime) -> bool: ...

    async def record_resend(
        self, n: Notification, error: str, retry_at: dt.datetime, at: dt.datetime
    ) -> bool:
        """Pending again in the next round (a new client reference), due at `retry_at`."""
        ...


class UnknownMessage(LookupError):
    """A report naming no SMS this service sent (or whose phone is not the one it was sent to)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


async def take_report(
    report: DeliveryReport, tx: ReportLog, *, policy: RetryPolicy, now: dt.datetime, actor: str
) -> str:
    notification_id, send_round = parse_reference(report.reference)
    kind, reason = verdict(report.status)
    n = await tx.get_for_report(notification_id)
    if n is None or n.channel != SMS:
        raise UnknownMessage(f"no SMS {report.reference} was sent by this service", field="body.id")
    if n.recipient != report.phone:
        raise UnknownMessage(f"SMS {report.reference} was not sent to {report.phone}", field="body.phone")
    if n.status not in (PENDING, SENT) or send_round != n.send_round:
        return DUPLICATE  # settled already, or a report of an earlier round: the log keeps what it has
    if kind == INTERIM:
        return NOTED
    if kind == DELIVERED:
        at = now
        if await tx.record_delivered(n, at):
            await announce_delivered(tx, n, at, actor=actor)
            log.info("sms_delivered", notification_id=n.notification_id, attempts=n.attempts)
        return RECORDED_DELIVERED
    error = error_text(f"SMS {reason} (status {report.status}, error {report.error_code})")
    if policy.gives_up(n.attempts, permanent=kind == FAILED_FOR_GOOD):
        if await tx.record_failed(n, error, now):
            await announce_failed(tx, n, error, now, actor=actor)
            log.error("sms_failed", notification_id=n.notification_id, attempts=n.attempts, error=error)
        return RECORDED_FAILED
    retry_at = policy.retry_at(n.attempts, now)
    await tx.record_resend(n, error, retry_at, now)
    log.warning("sms_sent_again_later", notification_id=n.notification_id, retry_at=retry_at.isoformat())
    return SENT_AGAIN


__all__ = ["UnknownMessage", "UnreadableReport", "take_report"]
