"""GET /openapi.json: the merged public document, which FastAPI's /docs page renders."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway import openapi
from gateway.state import GatewayDep

router = APIRouter()


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request, gateway: GatewayDep) -> JSONResponse:
    services = {name: gateway.upstreams[name] for name in gateway.table.services()}
    docs, unavailable = await gateway.openapi.get(
        gateway.http, services, timeout_s=gateway.settings.upstream_probe_timeout_s
    )
    # The gateway's own part comes from FastAPI (auth and health); FastAPI caches it after the first call.
    own = request.app.openapi()
    return JSONResponse(openapi.merge(own, docs, gateway.table, unavailable=unavailable))
