"""`GET /history/seals`: the latest signed seals of every service's history, public and without sign-in
(docs/adr/0030-tamper-evident-history.md). Anyone may fetch and keep them, and later hold us to them: each is the
head of a service's ledger at a moment, signed with the platform's key, which the same anyone verifies with the
published key set (`/.well-known/bt-partner-keys.json`, btkernel.signing.verify over the document as given).

The gateway keeps no seal of its own: it asks each service's `/history/seals` (btkernel.service) at each request;
a service that does not answer is listed with the error, the others still are.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from civreg.partners import asyncapi
from gateway.state import Gateway, GatewayDep

router = APIRouter(tags=["history"])


async def _service_seals(gateway: Gateway, name: str) -> dict[str, Any]:
    base = gateway.upstreams[name]
    try:
        response = await gateway.http.get(
            f"{base.rstrip('/')}/history/seals", timeout=gateway.settings.upstream_probe_timeout_s
        )
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return {"seals": [], "error": f"{type(exc).__name__}: {exc}"}
    seals = body.get("seals") if isinstance(body, dict) else None
    return {"seals": seals if isinstance(seals, list) else []}


@router.get(
    "/history/seals",
    summary="The latest signed seals of every service's history (verify with the published keys)",
)
async def history_seals(gateway: GatewayDep) -> JSONResponse:
    names = sorted(gateway.instances)
    answers = await asyncio.gather(*(_service_seals(gateway, name) for name in names))
    body = {"keys": asyncapi.KEYS_PATH, "services": dict(zip(names, answers, strict=True))}
    # New seals come every BT_SEAL_INTERVAL_S; a cache may keep an answer a little.
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=5"})
