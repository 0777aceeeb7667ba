"""The portal client's view: personal-cabinet notifications of portal applications (S002 portal process 9:
date assigned, reasoned refusal, result ready)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from btkernel.service import ActorDep, PoolDep, require_role

router = APIRouter(prefix="/api/v1/portal", tags=["portal"])


class CabinetNotification(BaseModel):
    application_id: str
    version: int
    kind: str
    text: str
    registration_on: dt.date | None
    refusal_reason: str | None
    notified_at: dt.datetime


@router.get(
    "/notifications",
    response_model=list[CabinetNotification],
    summary="Personal-cabinet notifications of portal applications, oldest first",
)
async def notifications(
    pool: PoolDep,
    actor: ActorDep,
    application_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[dt.datetime | None, Query(description="only those after this moment")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[CabinetNotification]:
    require_role(actor, "portal", "supervisor")
    rows = await pool.fetch(
        "SELECT * FROM cabinet_notifications WHERE ($1::text IS NULL OR application_id=$1)"
        " AND ($2::timestamptz IS NULL OR notified_at > $2) ORDER BY notified_at, version LIMIT $3",
        application_id,
        since,
        limit,
    )
    return [CabinetNotification(**dict(r)) for r in rows]
