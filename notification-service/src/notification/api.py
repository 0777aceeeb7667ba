"""HTTP API: the delivery log of an application's notifications."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel

from btkernel import problem_docs, problems
from btkernel.service import ActorDep, ApplicationIdQuery, PoolDep, require_role
from notification import store

router = APIRouter(prefix="/api/v1", tags=["notifications"])

READER_ROLES = ("supervisor", "centre_operator")


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
    application_id: ApplicationIdQuery,
) -> NotificationList:
    require_role(actor, *READER_ROLES)
    async with pool.acquire() as conn:
        app = await store.PgStore(conn).get_application(application_id)
        # An operator of another centre gets the same answer as for an unknown application: it may not learn
        # that the application exists.
        if app is None or (actor.role == "centre_operator" and app.centre_id != actor.site):
            raise problems.NotFound(
                f"no application {application_id} known to the notification service"
                + (" at your centre" if actor.role == "centre_operator" else ""),
                field="query.application_id",
            )
        rows = await store.list_for_application(conn, application_id)
    return NotificationList(
        application_id=application_id,
        items=[
            NotificationOut(
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
            for n in rows
        ],
    )
