"""The route a supervisor reads a service's audit of personal-data reads through (btkernel.history.audit); its
path and roles are the service's policy table's, as for every public route (ADR 0014, 0030)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from btkernel.history import audit
from btkernel.service import PoolDep


def audit_router(path: str, *, tags: list[str] | None = None) -> APIRouter:
    router = APIRouter(tags=list(tags or ["audit"]))

    @router.get(
        path, summary="Who read which personal data, when, asked what, and got which ids; newest first"
    )
    async def audit_reads(
        pool: PoolDep,
        actor: Annotated[str | None, Query(max_length=200, description="only this actor's reads")] = None,
        since: Annotated[dt.datetime | None, Query(alias="from", description="from this moment")] = None,
        until: Annotated[dt.datetime | None, Query(alias="to", description="before this moment")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        return await audit.reads(pool, actor=actor, since=since, until=until, limit=limit)

    return router
