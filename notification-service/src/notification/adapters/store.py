"""PostgreSQL store of the notification service: the application projection, the delivery log
(`notifications`) with each change's event in the message's stream (`domain.delivery_history`, ADR 0027) and the
outbox, on one connection and its transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from btkernel import outbox
from btkernel.envelope import Envelope
from notification.adapters import delivery_history
from notification.domain.applicant import ApplicationContact
from notification.domain.delivery_history import (
    DeliveryAttemptClaimed,
    DeliveryAttemptFailed,
    DeliveryChange,
    DeliveryRecorded,
    FailureRecorded,
    NotificationQueued,
    SmsHandedOver,
    SmsReportAwaited,
    SmsResendScheduled,
)
from notification.domain.notification import NewNotification, Notification

_FIELDS = tuple(Notification.__dataclass_fields__)
_COLUMNS = ", ".join(_FIELDS)


def _notification(row: asyncpg.Record | dict[str, Any]) -> Notification:
    values = dict(row)
    values["notification_id"] = str(values["notification_id"])
    return Notification(**{k: values[k] for k in _FIELDS})


class PgStore:
    """`app.projection.Store`, `app.delivery.DeliveryLog` and `app.delivery_log.DeliveryLogReader` on one
    connection: the consumer's (its transaction), a request's, or one the delivery use case opened."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    # -- the projection --

    async def save_application(self, app: ApplicationContact) -> None:
        await self.conn.execute(
            "INSERT INTO applications (application_id, service_id, service_name_ru, service_name_kk, centre_id,"
            " status, receipt_number, applicant_name, recipient_name, email, phone, timezone, source_event_id,"
            " service_name_ky)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
            " ON CONFLICT (application_id) DO UPDATE SET service_id = EXCLUDED.service_id,"
            " service_name_ru = EXCLUDED.service_name_ru, service_name_kk = EXCLUDED.service_name_kk,"
            " centre_id = EXCLUDED.centre_id, status = EXCLUDED.status, receipt_number = EXCLUDED.receipt_number,"
            " applicant_name = EXCLUDED.applicant_name, recipient_name = EXCLUDED.recipient_name,"
            " email = EXCLUDED.email, phone = EXCLUDED.phone, timezone = EXCLUDED.timezone,"
            " source_event_id = EXCLUDED.source_event_id, service_name_ky = EXCLUDED.service_name_ky,"
            " updated_at = now()",
            app.application_id,
            app.service_id,
            app.service_name_ru,
            app.service_name_kk,
            app.centre_id,
            app.status,
            app.receipt_number,
            app.applicant_name,
            app.recipient_name,
            app.email,
            app.phone,
            app.timezone,
            app.source_event_id,
            app.service_name_ky,
        )

    async def get_application(self, application_id: str) -> ApplicationContact | None:
        row = await self.conn.fetchrow(
            "SELECT application_id, service_id, service_name_ru, service_name_kk, centre_id, status,"
            " receipt_number, applicant_name, recipient_name, email, phone, timezone, source_event_id,"
            " service_name_ky FROM applications WHERE application_id = $1",
            application_id,
        )
        return ApplicationContact(**dict(row)) if row else None

    async def add_notification(self, n: NewNotification) -> bool:
        """Insert the message and open its stream with the row as inserted; False when this event already
        produced it."""
        row = await self.conn.fetchrow(
            "INSERT INTO notifications (notification_id, application_id, source_event_id, channel, recipient,"
            " template, subject, body, status, last_error, correlation_id)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
            f" ON CONFLICT DO NOTHING RETURNING {_COLUMNS}",
            uuid.UUID(n.notification_id),
            n.application_id,
            n.source_event_id,
            n.channel,
            n.recipient,
            n.template,
            n.subject,
            n.body,
            n.status,
            n.last_error,
            n.correlation_id,
        )
        if row is None:
            return False
        await self._record(row, NotificationQueued)
        return True

    async def list_for_application(self, application_id: str) -> list[Notification]:
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM notifications WHERE application_id = $1"
            " ORDER BY created_at, notification_id",
            application_id,
        )
        return [_notification(r) for r in rows]

    # -- the delivery log; moments come from the service's clock (`now`, `at`), not the database's --

    async def claim_due(
        self, *, now: dt.datetime, limit: int, max_attempts: int, lease_s: float
    ) -> list[Notification]:
        """Claim due pending rows for one attempt each. The caller commits before sending, so an attempt is on
        record before it is made; the lease (next_attempt_at) makes a crashed worker's rows due again after
        `lease_s`."""
        rows = await self.conn.fetch(
            "WITH due AS (SELECT notification_id FROM notifications"
            "  WHERE status = 'pending' AND next_attempt_at <= $4 AND attempts < $2"
            "  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
            " UPDATE notifications n SET attempts = n.attempts + 1, last_attempt_at = $4,"
            "  next_attempt_at = $4 + make_interval(secs => $3), updated_at = $4"
            " FROM due WHERE n.notification_id = due.notification_id"
            f" RETURNING {', '.join('n.' + c for c in _FIELDS)}",
            limit,
            max_attempts,
            lease_s,
            now,
        )
        for r in rows:
            await self._record(r, DeliveryAttemptClaimed)
        return [_notification(r) for r in rows]

    async def claim_abandoned(self, *, now: dt.datetime, limit: int, max_attempts: int) -> list[Notification]:
        """Rows whose last allowed attempt was claimed but never recorded (the worker stopped mid-send): locked
        for the caller to mark failed in its transaction."""
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM notifications"
            " WHERE status = 'pending' AND next_attempt_at <= $3 AND attempts >= $2"
            " ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
            max_attempts,
            now,
        )
        return [_notification(r) for r in rows]

    async def record_delivered(self, n: Notification, at: dt.datetime) -> bool:
        """Mark delivered if the claim that made this attempt is still the current one (no one reclaimed it); an
        SMS is `sent` when its delivery report says so."""
        return await self._change(
            DeliveryRecorded,
            "UPDATE notifications SET status = 'delivered', delivered_at = $3, last_error = NULL, updated_at = $3"
            " WHERE notification_id = $1 AND status IN ('pending', 'sent') AND attempts = $2",
            uuid.UUID(n.notification_id),
            n.attempts,
            at,
        )

    async def record_retry(self, n: Notification, error: str, retry_at: dt.datetime, at: dt.datetime) -> bool:
        return await self._change(
            DeliveryAttemptFailed,
            "UPDATE notifications SET last_error = $3, next_attempt_at = $4, updated_at = $5"
            " WHERE notification_id = $1 AND status = 'pending' AND attempts = $2",
            uuid.UUID(n.notification_id),
            n.attempts,
            error,
            retry_at,
            at,
        )

    async def record_failed(self, n: Notification, error: str, at: dt.datetime) -> bool:
        return await self._change(
            FailureRecorded,
            "UPDATE notifications SET status = 'failed', last_error = $3, updated_at = $4"
            " WHERE notification_id = $1 AND status IN ('pending', 'sent') AND attempts = $2",
            uuid.UUID(n.notification_id),
            n.attempts,
            error,
            at,
        )

    # -- SMS (ADR 0038) --

    async def record_sent(self, n: Notification, at: dt.datetime) -> bool:
        return await self._change(
            SmsHandedOver,
            "UPDATE notifications SET status = 'sent', last_error = NULL, updated_at = $3"
            " WHERE notification_id = $1 AND status = 'pending' AND attempts = $2",
            uuid.UUID(n.notification_id),
            n.attempts,
            at,
        )

    async def get_for_report(self, notification_id: str) -> Notification | None:
        row = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM notifications WHERE notification_id = $1 FOR UPDATE",
            uuid.UUID(notification_id),
        )
        return _notification(row) if row else None

    async def record_resend(
        self, n: Notification, error: str, retry_at: dt.datetime, at: dt.datetime
    ) -> bool:
        return await self._change(
            SmsResendScheduled,
            "UPDATE notifications SET status = 'pending', send_round = send_round + 1, last_error = $3,"
            " next_attempt_at = $4, updated_at = $5"
            " WHERE notification_id = $1 AND status IN ('pending', 'sent') AND attempts = $2",
            uuid.UUID(n.notification_id),
            n.attempts,
            error,
            retry_at,
            at,
        )

    # -- SMS whose delivery report has not come (ADR 0038, "Lost reports") --

    async def claim_unreported(
        self, *, now: dt.datetime, handed_over_before: dt.datetime, limit: int, lease_s: float
    ) -> list[Notification]:
        """`sent` SMS handed over before `handed_over_before` (the attempt's claim moment) and due to be asked
        about, leased to the caller for `lease_s`: another instance skips them until then (SKIP LOCKED, ADR 0029)."""
        rows = await self.conn.fetch(
            "WITH due AS (SELECT notification_id FROM notifications"
            "  WHERE status = 'sent' AND last_attempt_at <= $2 AND next_attempt_at <= $1"
            "  ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)"
            " UPDATE notifications n SET next_attempt_at = $1 + make_interval(secs => $4)"
            " FROM due WHERE n.notification_id = due.notification_id"
            f" RETURNING {', '.join('n.' + c for c in _FIELDS)}",
            now,
            handed_over_before,
            limit,
            lease_s,
        )
        for r in rows:
            await self._record(r, SmsReportAwaited)
        return [_notification(r) for r in rows]

    async def record_next_check(self, n: Notification, check_at: dt.datetime) -> bool:
        """When to ask again about an SMS still `sent` in the same attempt."""
        return await self._change(
            SmsReportAwaited,
            "UPDATE notifications SET next_attempt_at = $3"
            " WHERE notification_id = $1 AND status = 'sent' AND attempts = $2",
            uuid.UUID(n.notification_id),
            n.attempts,
            check_at,
        )

    async def enqueue(self, topic: str, envelope: Envelope) -> None:
        await outbox.enqueue(self.conn, topic, envelope)

    # -- the history of the log (ADR 0027) --

    async def _change(self, kind: type[DeliveryChange], update: str, *args: Any) -> bool:
        """Run `update` (one row's UPDATE, without RETURNING) and record what it set as `kind`; False when it
        changed no row."""
        row = await self.conn.fetchrow(
            f"{update} RETURNING notification_id, correlation_id, source_event_id, {', '.join(kind.model_fields)}",
            *args,
        )
        if row is None:
            return False
        await self._record(row, kind)
        return True

    async def _record(self, row: asyncpg.Record, kind: type[DeliveryChange]) -> None:
        values = dict(row)
        values["notification_id"] = str(values["notification_id"])
        await delivery_history.append(
            self.conn,
            values["notification_id"],
            kind.model_validate({k: values[k] for k in kind.model_fields}),
            correlation_id=values["correlation_id"],
            causation_id=values["source_event_id"],
        )

    async def write_row(self, n: Notification) -> None:
        """The row its stream folds to, whole, over what an earlier pass wrote (`notification.projections`)."""
        values = [getattr(n, f) for f in _FIELDS]
        values[0] = uuid.UUID(n.notification_id)
        placeholders = ", ".join(f"${i}" for i in range(1, len(_FIELDS) + 1))
        await self.conn.execute(
            f"INSERT INTO notifications ({_COLUMNS}) VALUES ({placeholders}) ON CONFLICT (notification_id)"
            f" DO UPDATE SET {', '.join(f'{f} = EXCLUDED.{f}' for f in _FIELDS[1:])}",
            *values,
        )


class PgTransactions:
    """`app.delivery.Transactions` on a pool: each call a connection of its own and one transaction on it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[PgStore]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PgStore(conn)
