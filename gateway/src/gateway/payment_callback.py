"""`POST /payment-gateway/callback`: the e-government payment gateway's notice of a payment (ADR 0034), public and
without sign-in, relayed to the fee service as given (`gateway.signed_relay`), which checks its HMAC signature with
this deployment's key and keeps each notice id once."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from btkernel import problem_docs
from gateway import signed_relay
from gateway.routes import FEE
from gateway.state import GatewayDep

router = APIRouter(tags=["state duty"])

PATH = "/payment-gateway/callback"
SIGNATURE_HEADER = "X-Payment-Signature"


@router.post(
    PATH,
    summary="The payment gateway's signed payment notice (public; verified by the fee service)",
    responses=problem_docs.declare(401),  # not signed with this deployment's payment-gateway key
)
async def payment_callback(request: Request, gateway: GatewayDep) -> Response:
    return await signed_relay.relay(
        request, gateway, service=FEE, content_type="application/json", signature_header=SIGNATURE_HEADER
    )
