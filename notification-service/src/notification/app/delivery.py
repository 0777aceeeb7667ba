"""Use case: deliver the pending notifications. Claims are committed before sending, so every attempt is on
record before it is made; each final outcome is recorded together with its NotificationDelivered or
NotificationFailed event (outbox) in one transaction; a transient failure is retried after its backoff.

An SMS the provider accepted is `sent`, not delivered: its outcome comes with the provider's delivery report
(`app.sms_reports`, ADR 0038)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from email.message import EmailMessage
from typing import Protocol

from btkernel import clock
from btkernel import logging as btlog
from btkernel.envelope import Envelope
from btkernel.events.base import Event
from civreg.events.notification import NotificationDelivered, NotificationFailed
from notification.domain.delivery import (
    DeliveryError,
    RetryPolicy,
    an_interrupted_last_attempt_fails_the_message,
    error_text,
)
from notification.domain.mail import build_message
from notification.domain.notification import SMS, Notification
from notification.domain.sms_reports import Sms, reference

log = btlog.get(__name__)

SOURCE = "/notification"


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Send, or raise DeliveryError saying whether the failure is permanent."""
        ...


class SmsSender(Protocol):
    async def send(self, sms: Sms) -> None:
        """Hand the SMS to the provider (which dedupes on `sms.reference`), or raise DeliveryError."""
        ...


class DeliveryLog(Protocol):
    """The delivery log within one transaction. Every write names the attempt it records (`n.attempts`) and
    changes nothing when that attempt is no longer the current one (another worker reclaimed the message)."""

    async def claim_abandoned(self, *, now: dt.datetime, limit: int, max_attempts: int) -> list[Notification]:
        """Due pending messages whose last allowed attempt was claimed but never recorded, locked for the caller."""
        ...

    async def claim_due(
        self, *, now: dt.datetime, limit: int, max_attempts: int, lease_s: float
    ) -> list[Notification]:
        """Due pending messages, each counted one more attempt and leased to the caller for `lease_s`."""
        ...

    async def record_delivered(self, n: Notification, at: dt.datetime) -> bool: ...

    async def record_sent(self, n: Notification, at: dt.datetime) -> bool:
        """An SMS the provider accepted: `sent`, waiting for its delivery report."""
        ...

    async def record_retry(
        self, n: Notification, error: str, retry_at: dt.datetime, at: dt.datetime
    ) -> bool: ...

    async def record_failed(self, n: Notification, error: str, at: dt.datetime) -> bool: ...

    async def enqueue(self, topic: str, envelope: Envelope) -> None: ...


class Transactions(Protocol):
    """The unit of work: each call opens one transaction, committed when the block ends normally and rolled back
    when it raises."""

    def __call__(self) -> AbstractAsyncContextManager[DeliveryLog]: ...


class Delivery:
    """One pass at a time (`run_once`); several processes may run it at once: claims skip locked rows."""

    def __init__(
        self,
        transaction: Transactions,
        mailer: Mailer,
        *,
        sender: str,
        policy: RetryPolicy,
        batch_size: int = 20,
        actor: str = "system:notification",
        now: Callable[[], dt.datetime] = clock.now,
        sms: SmsSender | None = None,
    ) -> None:
        self.transaction = transaction
        self.mailer = mailer
        # None: this deployment has no SMS provider; an SMS then fails its attempts with that reason.
        self.sms = sms
        self.sender = sender
        self.policy = policy
        self.batch_size = batch_size
        self.actor = actor
        # The service's clock (btkernel.clock): every moment the delivery log records, and every "is it due yet".
        self.now = now

    async def run_once(self) -> int:
        """Give up on abandoned last attempts, then claim and send a batch. Returns the messages handled."""
        async with self.transaction() as tx:
            abandoned = await tx.claim_abandoned(
                now=self.now(), limit=self.batch_size, max_attempts=self.policy.max_attempts
            )
            for n in abandoned:
                await self._fail(tx, n, an_interrupted_last_attempt_fails_the_message(n))
        async with self.transaction() as tx:
            claimed = await tx.claim_due(
                now=self.now(),
                limit=self.batch_size,
                max_attempts=self.policy.max_attempts,
                lease_s=self.policy.lease_s,
            )
        # The claims are committed: each attempt is on record before it is made.
        await asyncio.gather(*(self._deliver(n) for n in claimed))
        return len(abandoned) + len(claimed)

    async def _deliver(self, n: Notification) -> None:
        if n.channel == SMS:
            await self._send_sms(n)
            return
        message = build_message(
            notification_id=n.notification_id,
            sender=self.sender,
            recipient=n.recipient,
            subject=n.subject,
            body=n.body,
            date=self.now(),
        )
        try:
            await self.mailer.send(message)
        except DeliveryError as exc:
            await self._record_failure(n, str(exc), permanent=exc.permanent)
            return
        except Exception as exc:  # a bug in sending must not leave the row claimed for the whole lease
            await self._record_failure(n, repr(exc), permanent=False)
            return
        at = self.now()
        async with self.transaction() as tx:
            if not await tx.record_delivered(n, at):
                log.warning("delivery_outcome_stale", notification_id=n.notification_id, attempts=n.attempts)
                return
            await announce_delivered(tx, n, at, actor=self.actor)
        log.info("notification_delivered", notification_id=n.notification_id, attempts=n.attempts)

    async def _send_sms(self, n: Notification) -> None:
        try:
            if self.sms is None:
                raise DeliveryError("no SMS provider is configured (BT_SMS_PROVIDER_URL)", permanent=False)
            await self.sms.send(Sms(reference(n.notification_id, n.send_round), n.recipient, n.body))
        except DeliveryError as exc:
            await self._record_failure(n, str(exc), permanent=exc.permanent)
            return
        except Exception as exc:  # as for mail: a bug must not leave the row claimed for the whole lease
            await self._record_failure(n, repr(exc), permanent=False)
            return
        async with self.transaction() as tx:
            # False when the delivery report came first (and recorded the outcome) or the row was reclaimed.
            if not await tx.record_sent(n, self.now()):
                log.info("sms_sent_outcome_already_known", notification_id=n.notification_id)
                return
        log.info("sms_sent", notification_id=n.notification_id, attempts=n.attempts, round=n.send_round)

    async def _record_failure(self, n: Notification, error: str, *, permanent: bool) -> None:
        error = error_text(error)
        async with self.transaction() as tx:
            if self.policy.gives_up(n.attempts, permanent=permanent):
                await self._fail(tx, n, error)
                return
            now = self.now()
            retry_at = self.policy.retry_at(n.attempts, now)
            if await tx.record_retry(n, error, retry_at, now):
                log.warning(
                    "notification_attempt_failed",
                    notification_id=n.notification_id,
                    attempts=n.attempts,
                    retry_at=retry_at.isoformat(),
                    error=error,
                )

    async def _fail(self, tx: DeliveryLog, n: Notification, error: str) -> None:
        at = self.now()
        if not await tx.record_failed(n, error, at):
            log.warning("delivery_outcome_stale", notification_id=n.notification_id, attempts=n.attempts)
            return
        await announce_failed(tx, n, error, at, actor=self.actor)
        log.error("notification_failed", notification_id=n.notification_id, attempts=n.attempts, error=error)


class Outbox(Protocol):
    async def enqueue(self, topic: str, envelope: Envelope) -> None: ...


async def announce_delivered(tx: Outbox, n: Notification, at: dt.datetime, *, actor: str) -> None:
    """NotificationDelivered, in the transaction that recorded the outcome."""
    event = NotificationDelivered(
        notification_id=n.notification_id,
        application_id=n.application_id,
        channel=n.channel,
        recipient=n.recipient,
        template=n.template,
        delivered_at=at,
        attempts=n.attempts,
    )
    await _publish(tx, n, event, actor)


async def announce_failed(tx: Outbox, n: Notification, error: str, at: dt.datetime, *, actor: str) -> None:
    """NotificationFailed, in the transaction that recorded the outcome."""
    event = NotificationFailed(
        notification_id=n.notification_id,
        application_id=n.application_id,
        channel=n.channel,
        recipient=n.recipient,
        template=n.template,
        failed_at=at,
        attempts=n.attempts,
        error=error,
    )
    await _publish(tx, n, event, actor)


async def _publish(tx: Outbox, n: Notification, event: Event, actor: str) -> None:
    envelope = Envelope.new(
        type=event.TYPE,
        source=SOURCE,
        subject=n.notification_id,
        data=event.to_data(),
        correlation_id=n.correlation_id,
        causation_id=n.source_event_id,
        actor=actor,
    )
    await tx.enqueue(event.TOPIC, envelope)
