"""SQL of the notification service: the application projection and the delivery log (`notifications`)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

# Deterministic ids: the same event always yields the same notification id, so applying it again cannot create a
# second message (the UNIQUE constraint would refuse it anyway).
_NOTIFICATION_NS = uuid.UUID("6f1b7c1e-5b1a-4c39-9a52-2f0f7f3d8a10")

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SKIPPED_NO_ADDRESS = "skipped_no_address"

EMAIL = "email"


@dataclass(frozen=True)
class ApplicationContact:
    """What the projection keeps of one application: who to tell and how to name the service and the receipt."""

    application_id: str
    service_id: str
    service_name_ru: str
    service_name_kk: str
    centre_id: str
    status: str
    receipt_number: str | None
    applicant_name: str
    recipient_name: str
    email: str | None
    phone: str | None
    timezone: str
    source_event_id: str


@dataclass(frozen=True)
class NewNotification:
    application_id: str
    source_event_id: str
    channel: str
    recipient: str
    template: str
    subject: str
    body: str
    status: str
    last_error: str | None
    correlation_id: str | None

    @property
    def notification_id(self) -> str:
        return str(uuid.uuid5(_NOTIFICATION_NS, f"{self.source_event_id}:{self.channel}:{self.template}"))


@dataclass(frozen=True)
class Notification:
    """One row of the delivery log."""

    notification_id: str
    application_id: str
    source_event_id: str
    channel: str
    recipient: str
    template: str
    subject: str
    body: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    correlation_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record | dict[str, Any]) -> Notification:
        values = dict(row)
        values["notification_id"] = str(values["notification_id"])
        return cls(**{k: values[k] for k in cls.__dataclass_fields__})


_COLUMNS = ", ".join(Notification.__dataclass_fields__)


class PgStore:
    """The projection and delivery-log writes of the consumer, on the consumer's connection and transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def save_application(self, app: ApplicationContact) -> None:
        await self.conn.execute(
            "INSERT INTO applications (application_id, service_id, service_name_ru, service_name_kk, centre_id,"
            " status, receipt_number, applicant_name, recipient_name, email, phone, timezone, source_event_id)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
            " ON CONFLICT (application_id) DO UPDATE SET service_id = EXCLUDED.service_id,"
            " service_name_ru = EXCLUDED.service_name_ru, service_name_kk = EXCLUDED.service_name_kk,"
            " centre_id = EXCLUDED.centre_id, status = EXCLUDED.status, receipt_number = EXCLUDED.receipt_number,"
            " applicant_name = EXCLUDED.applicant_name, recipient_name = EXCLUDED.recipient_name,"
            " email = EXCLUDED.email, phone = EXCLUDED.phone, timezone = EXCLUDED.timezone,"
            " source_event_id = EXCLUDED.source_event_id, updated_at = now()",
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
        )

    async def get_application(self, application_id: str) -> ApplicationContact | None:
        row = await self.conn.fetchrow(
            "SELECT application_id, service_id, service_name_ru, service_name_kk, centre_id, status,"
            " receipt_number, applicant_name, recipient_name, email, phone, timezone, source_event_id"
            " FROM applications WHERE application_id = $1",
            application_id,
        )
        return ApplicationContact(**dict(row)) if row else None

    async def add_notification(self, n: NewNotification) -> bool:
        """Insert the message; False when this event already produced it."""
        inserted = await self.conn.fetchval(
            "INSERT INTO notifications (notification_id, application_id, source_event_id, channel, recipient,"
            " template, subject, body, status, last_error, correlation_id)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
            " ON CONFLICT DO NOTHING RETURNING 1",
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
        return bool(inserted)


async def list_for_application(conn: asyncpg.Connection, application_id: str) -> list[Notification]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM notifications WHERE application_id = $1 ORDER BY created_at, notification_id",
        application_id,
    )
    return [Notification.from_row(r) for r in rows]


# -- the delivery worker's side --


async def claim_due(
    conn: asyncpg.Connection, *, limit: int, max_attempts: int, lease_s: float
) -> list[Notification]:
    """Claim due pending rows for one attempt each. The caller commits before sending, so an attempt is on record
    before it is made; the lease (next_attempt_at) makes a crashed worker's rows due again after `lease_s`."""
    rows = await conn.fetch(
        "WITH due AS (SELECT notification_id FROM notifications"
        "  WHERE status = 'pending' AND next_attempt_at <= now() AND attempts < $2"
        "  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        f" UPDATE notifications n SET attempts = n.attempts + 1, last_attempt_at = now(),"
        f"  next_attempt_at = now() + make_interval(secs => $3), updated_at = now()"
        f" FROM due WHERE n.notification_id = due.notification_id"
        f" RETURNING {', '.join('n.' + c for c in Notification.__dataclass_fields__)}",
        limit,
        max_attempts,
        lease_s,
    )
    return [Notification.from_row(r) for r in rows]


async def claim_abandoned(conn: asyncpg.Connection, *, limit: int, max_attempts: int) -> list[Notification]:
    """Rows whose last allowed attempt was claimed but never recorded (the worker stopped mid-send): locked for
    the caller to mark failed in its transaction."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM notifications"
        " WHERE status = 'pending' AND next_attempt_at <= now() AND attempts >= $2"
        " ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit,
        max_attempts,
    )
    return [Notification.from_row(r) for r in rows]


async def record_delivered(conn: asyncpg.Connection, n: Notification, at: dt.datetime) -> bool:
    """Mark delivered if the claim that made this attempt is still the current one (no one reclaimed it)."""
    done = await conn.fetchval(
        "UPDATE notifications SET status = 'delivered', delivered_at = $3, last_error = NULL, updated_at = now()"
        " WHERE notification_id = $1 AND status = 'pending' AND attempts = $2 RETURNING 1",
        uuid.UUID(n.notification_id),
        n.attempts,
        at,
    )
    return bool(done)


async def record_retry(conn: asyncpg.Connection, n: Notification, error: str, retry_at: dt.datetime) -> bool:
    done = await conn.fetchval(
        "UPDATE notifications SET last_error = $3, next_attempt_at = $4, updated_at = now()"
        " WHERE notification_id = $1 AND status = 'pending' AND attempts = $2 RETURNING 1",
        uuid.UUID(n.notification_id),
        n.attempts,
        error,
        retry_at,
    )
    return bool(done)


async def record_failed(conn: asyncpg.Connection, n: Notification, error: str) -> bool:
    done = await conn.fetchval(
        "UPDATE notifications SET status = 'failed', last_error = $3, updated_at = now()"
        " WHERE notification_id = $1 AND status = 'pending' AND attempts = $2 RETURNING 1",
        uuid.UUID(n.notification_id),
        n.attempts,
        error,
    )
    return bool(done)
