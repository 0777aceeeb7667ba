"""Relaying an outside system's signed notice to the service that verifies it (the payment gateway's callbacks,
ADR 0034; the SMS provider's delivery reports, ADR 0038). Such a notice is public and carries no sign-in: its only
authentication is an HMAC over the exact body, which the receiving service checks with this deployment's key before
it reads anything. So the body goes on byte for byte with its signature header, never parsed or rewritten (a
re-serialised body would no longer verify).

An unavailable service is 503 with Retry-After: the sender retries its notice, and a notice taken twice changes
nothing at the service."""

from __future__ import annotations

import httpx
from fastapi import Request, Response

from btkernel import logging as btlog
from btkernel import problems
from btkernel.service import get_context
from gateway.state import Gateway

log = btlog.get(__name__)

RETRY_AFTER_S = 10
MAX_SIGNATURE_CHARS = 200


async def relay(
    request: Request,
    gateway: Gateway,
    *,
    service: str,
    content_type: str,
    signature_header: str,
    body: bytes | None = None,
) -> Response:
    """POST the request's body (or `body`, already read) to the same path on `service`, with the signature header
    as given; the service's answer comes back with its status, content type and Retry-After."""
    ctx = get_context(request)
    content = await request.body() if body is None else body
    headers = {
        "Content-Type": content_type,
        "X-Request-Id": ctx.request_id or ctx.correlation_id,
        "X-Correlation-Id": ctx.correlation_id,
    }
    # Relayed as given (ASCII only: httpx refuses anything else, which the service would refuse anyway).
    sig = request.headers.get(signature_header)
    if sig is not None and sig.isascii() and len(sig) <= MAX_SIGNATURE_CHARS:
        headers[signature_header] = sig
    url = f"{gateway.upstreams[service].rstrip('/')}{request.url.path}"
    try:
        response = await gateway.send(service, "POST", url, content=content, headers=headers)
    except httpx.HTTPError as exc:
        log.warning("signed_notice_unavailable", service=service, path=request.url.path, error=repr(exc))
        return problems.unavailable_response(
            f"the {service} service is unavailable; send the notice again",
            request.url.path,
            retry_after_s=RETRY_AFTER_S,
        )
    keep = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "retry-after")}
    return Response(response.content, status_code=response.status_code, headers=keep)
