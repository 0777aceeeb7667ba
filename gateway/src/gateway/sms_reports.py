"""`POST /sms-provider/reports`: the SMS provider's delivery report (ADR 0038), public and without sign-in, relayed
to the notification service as the payment gateway's notices are to the fee service (`gateway.payment_callback`,
ADR 0034). Its only authentication is the HMAC signature over the exact body, which the notification service checks
with this deployment's callback key before it reads anything; so the gateway relays the body byte for byte with
the signature header, and never parses or rewrites either.

A report is five short fields: a body over `MAX_REPORT_BYTES` is refused here (422 naming `body`) rather than
carried inside. An unavailable notification service is 503 with Retry-After: the provider sends its report again,
and a report taken twice changes nothing (`duplicate`)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response

from btkernel import logging as btlog
from btkernel import problem_docs, problems
from btkernel.errors import InvalidInput
from btkernel.service import get_context
from gateway.routes import NOTIFICATION
from gateway.state import GatewayDep

log = btlog.get(__name__)
router = APIRouter(tags=["notifications"])

PATH = "/sms-provider/reports"
SIGNATURE_HEADER = "X-Sms-Signature"
# The notification service's own bound on a report (`notification.api.sms_reports.MAX_REPORT_BYTES`).
MAX_REPORT_BYTES = 2048
RETRY_AFTER_S = 10


@router.post(
    PATH,
    summary="The SMS provider's signed delivery report (public; verified by the notification service)",
    # not signed with this deployment's SMS callback key; a report of a message the platform never sent
    responses=problem_docs.declare(401, 404),
)
async def sms_report(request: Request, gateway: GatewayDep) -> Response:
    ctx = get_context(request)
    body = await request.body()
    if len(body) > MAX_REPORT_BYTES:
        raise InvalidInput(f"a delivery report is at most {MAX_REPORT_BYTES} bytes", field="body")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Request-Id": ctx.request_id or ctx.correlation_id,
        "X-Correlation-Id": ctx.correlation_id,
    }
    # Relayed as given (ASCII only: httpx refuses anything else, which the service would refuse anyway).
    if (sig := request.headers.get(SIGNATURE_HEADER)) is not None and sig.isascii() and len(sig) <= 200:
        headers[SIGNATURE_HEADER] = sig
    url = f"{gateway.upstreams[NOTIFICATION].rstrip('/')}{PATH}"
    try:
        response = await gateway.send(NOTIFICATION, "POST", url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        log.warning("sms_report_unavailable", error=repr(exc))
        return problems.unavailable_response(
            "the notification service is unavailable; send the report again",
            request.url.path,
            retry_after_s=RETRY_AFTER_S,
        )
    keep = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "retry-after")}
    return Response(response.content, status_code=response.status_code, headers=keep)
