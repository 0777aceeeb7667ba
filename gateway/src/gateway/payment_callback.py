"""`POST /payment-gateway/callback`: the e-government payment gateway's notice of a payment (ADR 0034), public and
without sign-in. Its only authentication is its HMAC signature over the exact body, which the fee service checks
with this deployment's key before it reads anything; the gateway relays the body byte for byte and the signature
header, and never rewrites either (a re-serialised body would no longer verify).

An unavailable fee service is 503 with Retry-After: the payment gateway retries its notice, and a notice taken
twice changes nothing (the fee service keeps each notice id once)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response

from btkernel import logging as btlog
from btkernel import problem_docs, problems
from btkernel.service import get_context
from gateway.routes import FEE
from gateway.state import GatewayDep

log = btlog.get(__name__)
router = APIRouter(tags=["state duty"])

PATH = "/payment-gateway/callback"
SIGNATURE_HEADER = "X-Payment-Signature"
RETRY_AFTER_S = 10


@router.post(
    PATH,
    summary="The payment gateway's signed payment notice (public; verified by the fee service)",
    responses=problem_docs.declare(401),  # not signed with this deployment's payment-gateway key
)
async def payment_callback(request: Request, gateway: GatewayDep) -> Response:
    ctx = get_context(request)
    body = await request.body()
    headers = {
        "Content-Type": "application/json",
        "X-Request-Id": ctx.request_id or ctx.correlation_id,
        "X-Correlation-Id": ctx.correlation_id,
    }
    # Relayed as given (ASCII only: httpx refuses anything else, which the fee service would refuse anyway).
    if (sig := request.headers.get(SIGNATURE_HEADER)) is not None and sig.isascii() and len(sig) <= 200:
        headers[SIGNATURE_HEADER] = sig
    url = f"{gateway.upstreams[FEE].rstrip('/')}{PATH}"
    try:
        response = await gateway.send(FEE, "POST", url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        log.warning("payment_callback_unavailable", error=repr(exc))
        return problems.unavailable_response(
            "the fee service is unavailable; send the notice again",
            request.url.path,
            retry_after_s=RETRY_AFTER_S,
        )
    keep = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "retry-after")}
    return Response(response.content, status_code=response.status_code, headers=keep)
