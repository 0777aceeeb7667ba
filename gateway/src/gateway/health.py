"""Readiness of the gateway (its database) and of every upstream service, in one answer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.state import Gateway, GatewayDep

router = APIRouter(tags=["health"])


async def _probe(gateway: Gateway, base: str) -> dict[str, Any]:
    try:
        response = await gateway.http.get(
            f"{base.rstrip('/')}/health", timeout=gateway.settings.upstream_probe_timeout_s
        )
    except httpx.HTTPError as exc:
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"}
    try:
        body = response.json()
    except ValueError:
        body = {}
    checks = body.get("checks") if isinstance(body, dict) else None
    status = "ok" if response.status_code == 200 else "unavailable"
    return {"status": status, "http_status": response.status_code, "checks": checks}


@router.get("/health", summary="Readiness of the gateway and of every upstream service")
async def health(gateway: GatewayDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await gateway.users.ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {exc!r}"
    names = sorted(gateway.upstreams)
    probes = await asyncio.gather(*(_probe(gateway, gateway.upstreams[name]) for name in names))
    upstreams = dict(zip(names, probes, strict=True))
    ok = checks["database"] == "ok" and all(p["status"] == "ok" for p in probes)
    return JSONResponse(
        {
            "status": "ok" if ok else "unavailable",
            "service": gateway.settings.service_name,
            "checks": checks,
            "upstreams": upstreams,
        },
        status_code=200 if ok else 503,
    )
