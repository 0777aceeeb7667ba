"""HTTP API: the delivery log of an application's notifications."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel

from btkernel import problem_docs, problems
from btkernel.history import audit
from btkernel.service import ActorDep, ApplicationIdQuery, ContextDep, PoolDep
from civreg.policy import Role
from notification.adapters.store import PgStore
from notification.app.delivery_log import delivery_log
from notification.domain.notification import Notification

router = APIRouter(prefix="/api/v1", tags=["notifications"])


class NotificationOut(BaseModel):
    notification_id: str
    application_id: str
    channel: str
    recipient: str
    template: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(
            notification_id=n.notification_id,
            application_id=n.application_id,
            channel=n.channel,
            recipient=n.recipient,
            template=n.template,
            subject=n.subject,
            status=n.status,
            attempts=n.attempts,
            last_error=n.last_error,
            created_at=n.created_at,
            updated_at=n.updated_at,
            last_attempt_at=n.last_attempt_at,
            delivered_at=n.delivered_at,
        )


class NotificationList(BaseModel):
    application_id: str
    items: list[NotificationOut]


@router.get(
    "/notifications",
    response_model=NotificationList,
    summary="Delivery log of the notifications sent about one application",
    responses=problem_docs.declare(404),
)
async def list_notifications(
    pool: PoolDep,
    actor: ActorDep,
    ctx: ContextDep,
    application_id: ApplicationIdQuery,
) -> NotificationList:
    async with pool.acquire() as conn:
        rows = await delivery_log(PgStore(conn), application_id, role=actor.role, site=actor.site)
    if rows is None:
        # Unknown and out of scope read the same (see delivery_log).
        raise problems.NotFound(
            f"no application {application_id} known to the notification service"
            + (" at your centre" if actor.role == Role.CENTRE_OPERATOR else ""),
            field="query.application_id",
        )
    # The log shows recipients' addresses and phones: audited before it is answered, as records and applications
    # are (ADR 0030); the entry keeps the notification ids, never the addresses.
    await audit.record_read(
        pool,
        ctx,
        action="notifications.list",
        query={"application_id": application_id},
        returned=[n.notification_id for n in rows],
    )
    return NotificationList(application_id=application_id, items=[NotificationOut.of(n) for n in rows])
