"""The portal client's view: personal-cabinet notifications of portal applications (S002 portal process 9:
date assigned, reasoned refusal, result ready) and of complaints sent through the portal (S004 p.11: delivery,
registration, execution marks, the answer or the refusal to review)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from btkernel.service import ActorDep
from intake.api.deps import UowDep
from intake.app import queries

router = APIRouter(prefix="/api/v1/portal", tags=["portal"])


class CabinetNotification(BaseModel):
    # One of the two: the application, or the complaint, the notification is about.
    application_id: str | None
    complaint_id: str | None = None
    version: int
    kind: str
    text: str
    registration_on: dt.date | None = None
    refusal_reason: str | None = None
    notified_at: dt.datetime


@router.get(
    "/notifications",
    response_model=list[CabinetNotification],
    summary="Personal-cabinet notifications of portal applications and complaints, oldest first",
)
async def notifications(
    uow: UowDep,
    actor: ActorDep,
    application_id: Annotated[str | None, Query(max_length=100)] = None,
    complaint_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[dt.datetime | None, Query(description="only those after this moment")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[CabinetNotification]:
    rows = await queries.cabinet_notifications(
        uow, application_id=application_id, complaint_id=complaint_id, since=since, limit=limit
    )
    return [CabinetNotification(**r) for r in rows]
