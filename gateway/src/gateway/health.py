"""Readiness of the gateway (its database) and of every upstream service, in one answer: the worst status of all
(`ok` < `degraded` < `unavailable`, see btkernel.health), each upstream's checks, and every reason in `reasons`
prefixed with the service it comes from. 503 only when something is unavailable."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from btkernel.health import worst
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
    # A 200 is ok or degraded (the service serves, something needs a person), as the service itself says.
    said = body.get("status") if isinstance(body, dict) else None
    status = (said if said in ("ok", "degraded") else "ok") if response.status_code == 200 else "unavailable"
    probe: dict[str, Any] = {"status": status, "http_status": response.status_code, "checks": checks}
    reasons = body.get("reasons") if isinstance(body, dict) else None
    if isinstance(reasons, list) and reasons:
        probe["reasons"] = [str(r) for r in reasons]
    return probe


async def _probe_service(gateway: Gateway, service: str) -> dict[str, Any]:
    """One instance: its probe. Several: each one's probe under `instances` (by base URL), and the service as
    the best of them (it serves while one does), `degraded` while any other is not ok, with its reasons."""
    bases = gateway.instances[service].bases
    probes = await asyncio.gather(*(_probe(gateway, base) for base in bases))
    if len(bases) == 1:
        return probes[0]
    serving = [p for p in probes if p["status"] in ("ok", "degraded")]
    best = min(serving, key=lambda p: p["status"] != "ok") if serving else probes[0]
    summary = dict(best)
    reasons = [f"{base}: {reason}" for base, p in zip(bases, probes, strict=True) for reason in _reasons(p)]
    if serving and reasons:
        summary["status"] = "degraded"
    if reasons:
        summary["reasons"] = reasons
    summary["instances"] = dict(zip(bases, probes, strict=True))
    return summary


@router.get("/health", summary="Readiness of the gateway and of every upstream service")
async def health(gateway: GatewayDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await gateway.users.ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {exc!r}"
    names = sorted(gateway.instances)
    probes = await asyncio.gather(*(_probe_service(gateway, name) for name in names))
    upstreams = dict(zip(names, probes, strict=True))
    # The worst of the gateway's own database and every upstream ("down" counts as unavailable).
    status = worst(["ok" if checks["database"] == "ok" else "unavailable", *(p["status"] for p in probes)])
    body: dict[str, Any] = {
        "status": status,
        "service": gateway.settings.service_name,
        "checks": checks,
        "upstreams": upstreams,
    }
    reasons = [f"{name}: {reason}" for name, p in upstreams.items() for reason in _reasons(p)]
    if checks["database"] != "ok":
        reasons.insert(0, f"gateway: database: {checks['database']}")
    if reasons:
        body["reasons"] = reasons
    return JSONResponse(body, status_code=503 if status == "unavailable" else 200)


def _reasons(probe: dict[str, Any]) -> list[str]:
    if probe.get("reasons"):
        return list(probe["reasons"])
    if probe["status"] == "down":
        return [f"does not answer: {probe.get('error')}"]
    if probe["status"] != "ok":
        return [f"/health answered {probe.get('http_status')}"]
    return []
