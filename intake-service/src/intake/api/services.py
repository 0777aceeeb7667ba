"""The state-service catalogue as the public API shows it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from btkernel import clock
from btkernel.problems import NotFound
from civreg import catalogue
from civreg.calendar import ALMATY

router = APIRouter(prefix="/api/v1/services", tags=["services"])


@router.get("", summary="The civil-registration services the platform offers")
async def list_services(
    on: Annotated[dt.date | None, Query(description="edition in force on this date")] = None,
) -> list[dict[str, Any]]:
    cat = catalogue.load()
    out = []
    for sid in cat.ids():
        s = cat.get(sid, on=on)
        if s is not None:
            out.append(
                {
                    "id": s.id,
                    "names": s.names.model_dump(),
                    "channels": s.channels,
                    "channel_conditions": s.channel_conditions,
                    "form": s.form,
                    "valid_from": s.valid_from,
                    "valid_to": s.valid_to,
                    "source": s.source,
                    "variants": s.variants(),
                    "results": s.results,
                }
            )
    return out


@router.get("/contradictions", summary="Where the sources contradict each other, and the choice made")
async def contradictions() -> list[dict[str, Any]]:
    return [c.model_dump() for c in catalogue.load().contradictions]


@router.get("/{service_id}", summary="One service in full: channels, checklist, terms, steps, fee")
async def get_service(
    service_id: str, on: Annotated[dt.date | None, Query(description="edition in force on this date")] = None
) -> dict[str, Any]:
    s = catalogue.load().get(service_id, on=on)
    if s is None:
        raise NotFound(f"no service {service_id!r} in force on {on or clock.today(ALMATY)}")
    data = s.model_dump(mode="json")
    data["catalogue_version"] = catalogue.load().catalogue_version
    data["editions"] = [
        {"valid_from": e.valid_from, "valid_to": e.valid_to, "source": e.source}
        for e in catalogue.load().services
        if e.id == service_id
    ]
    return data
