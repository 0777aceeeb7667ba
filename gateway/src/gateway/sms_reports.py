"""`POST /sms-provider/reports`: the SMS provider's delivery report (ADR 0038), public and without sign-in, relayed
to the notification service as given (`gateway.signed_relay`), which checks its HMAC signature with this
deployment's callback key; a report taken twice changes nothing (`duplicate`).

A report is five short fields: a body over `MAX_REPORT_BYTES` is refused here (422 naming `body`) rather than
carried inside."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from btkernel import problem_docs
from btkernel.errors import InvalidInput
from gateway import signed_relay
from gateway.routes import NOTIFICATION
from gateway.state import GatewayDep

router = APIRouter(tags=["notifications"])

PATH = "/sms-provider/reports"
SIGNATURE_HEADER = "X-Sms-Signature"
# The notification service's own bound on a report (`notification.api.sms_reports.MAX_REPORT_BYTES`).
MAX_REPORT_BYTES = 2048


@router.post(
    PATH,
    summary="The SMS provider's signed delivery report (public; verified by the notification service)",
    # not signed with this deployment's SMS callback key; a report of a message the platform never sent
    responses=problem_docs.declare(401, 404),
)
async def sms_report(request: Request, gateway: GatewayDep) -> Response:
    body = await request.body()
    if len(body) > MAX_REPORT_BYTES:
        raise InvalidInput(f"a delivery report is at most {MAX_REPORT_BYTES} bytes", field="body")
    return await signed_relay.relay(
        request,
        gateway,
        service=NOTIFICATION,
        content_type="application/x-www-form-urlencoded",
        signature_header=SIGNATURE_HEADER,
        body=body,
    )
