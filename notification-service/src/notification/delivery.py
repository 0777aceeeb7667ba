"""The delivery worker: sends pending messages, retries with backoff, and records each final outcome together
with its NotificationDelivered/NotificationFailed event (outbox) in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from dataclasses import dataclass

import asyncpg

from btkernel import logging as btlog
from btkernel import outbox
from btkernel.envelope import Envelope
from btkernel.events.base import Event
from btkernel.events.notification import NotificationDelivered, NotificationFailed
from notification import store
from notification.mailer import DeliveryError, Mailer, build_message
from notification.store import Notification

log = btlog.get(__name__)

SOURCE = "/notification"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_s: float = 5.0
    backoff_max_s: float = 600.0
    lease_s: float = 120.0

    def delay_after(self, attempt: int) -> float:
        return float(min(self.backoff_s * 2 ** (attempt - 1), self.backoff_max_s))


class DeliveryWorker:
    """One asyncio task per service process; several processes may run it: rows are claimed with SKIP LOCKED."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        mailer: Mailer,
        *,
        sender: str,
        policy: RetryPolicy,
        batch_size: int = 20,
        poll_interval_s: float = 1.0,
        actor: str = "system:notification",
    ) -> None:
        self.pool = pool
        self.mailer = mailer
        self.sender = sender
        self.policy = policy
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.actor = actor
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="notification-delivery")

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def run(self) -> None:
        while not self._stopping:
            try:
                handled = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away: log, back off, go on
                log.warning("delivery_worker_error", error=repr(exc))
                handled = 0
            if handled < self.batch_size:
                await asyncio.sleep(self.poll_interval_s)

    async def run_once(self) -> int:
        """One pass: give up on abandoned last attempts, then claim and send a batch. Returns rows handled."""
        async with self.pool.acquire() as conn, conn.transaction():
            abandoned = await store.claim_abandoned(
                conn, limit=self.batch_size, max_attempts=self.policy.max_attempts
            )
            for n in abandoned:
                error = (
                    f"attempt {n.attempts} was interrupted before its outcome was recorded"
                    f" (last error: {n.last_error or 'none'})"
                )
                await self._fail(conn, n, error)
        async with self.pool.acquire() as conn, conn.transaction():
            claimed = await store.claim_due(
                conn,
                limit=self.batch_size,
                max_attempts=self.policy.max_attempts,
                lease_s=self.policy.lease_s,
            )
        # The claims are committed: each attempt is on record before it is made.
        await asyncio.gather(*(self._deliver(n) for n in claimed))
        return len(abandoned) + len(claimed)

    async def _deliver(self, n: Notification) -> None:
        message = build_message(
            notification_id=n.notification_id,
            sender=self.sender,
            recipient=n.recipient,
            subject=n.subject,
            body=n.body,
        )
        try:
            await self.mailer.send(message)
        except DeliveryError as exc:
            await self._record_failure(n, str(exc), permanent=exc.permanent)
            return
        except Exception as exc:  # a bug in sending must not leave the row claimed for the whole lease
            await self._record_failure(n, repr(exc), permanent=False)
            return
        now = dt.datetime.now(dt.UTC)
        async with self.pool.acquire() as conn, conn.transaction():
            if await store.record_delivered(conn, n, now):
                await self._publish(
                    conn,
                    n,
                    NotificationDelivered(
                        notification_id=n.notification_id,
                        application_id=n.application_id,
                        channel=n.channel,
                        recipient=n.recipient,
                        template=n.template,
                        delivered_at=now,
                        attempts=n.attempts,
                    ),
                )
                log.info("notification_delivered", notification_id=n.notification_id, attempts=n.attempts)
            else:
                log.warning("delivery_outcome_stale", notification_id=n.notification_id, attempts=n.attempts)

    async def _record_failure(self, n: Notification, error: str, *, permanent: bool) -> None:
        error = error[:2000]
        async with self.pool.acquire() as conn, conn.transaction():
            if permanent or n.attempts >= self.policy.max_attempts:
                await self._fail(conn, n, error)
                return
            retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.policy.delay_after(n.attempts))
            if await store.record_retry(conn, n, error, retry_at):
                log.warning(
                    "notification_attempt_failed",
                    notification_id=n.notification_id,
                    attempts=n.attempts,
                    retry_at=retry_at.isoformat(),
                    error=error,
                )

    async def _fail(self, conn: asyncpg.Connection, n: Notification, error: str) -> None:
        if not await store.record_failed(conn, n, error):
            log.warning("delivery_outcome_stale", notification_id=n.notification_id, attempts=n.attempts)
            return
        await self._publish(
            conn,
            n,
            NotificationFailed(
                notification_id=n.notification_id,
                application_id=n.application_id,
                channel=n.channel,
                recipient=n.recipient,
                template=n.template,
                failed_at=dt.datetime.now(dt.UTC),
                attempts=n.attempts,
                error=error,
            ),
        )
        log.error("notification_failed", notification_id=n.notification_id, attempts=n.attempts, error=error)

    async def _publish(self, conn: asyncpg.Connection, n: Notification, event: Event) -> None:
        envelope = Envelope.new(
            type=event.TYPE,
            source=SOURCE,
            subject=n.notification_id,
            data=event.to_data(),
            correlation_id=n.correlation_id,
            causation_id=n.source_event_id,
            actor=self.actor,
        )
        await outbox.enqueue(conn, event.TOPIC, envelope)
