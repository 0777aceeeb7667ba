"""Forwarding: one endpoint per path of the route table that checks the role and relays to the owning service."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx
from fastapi import APIRouter, Request, Response

from btkernel import idempotency, internal_token, problems, tracing
from btkernel import logging as btlog
from btkernel.service import get_context
from gateway.auth import authorize, request_principal
from gateway.routes import Route, RouteTable
from gateway.state import Gateway
from gateway.tokens import Principal

log = btlog.get(__name__)

# Only these caller headers reach a service. An allow-list, so Authorization and any X-Internal-Token a caller
# made up never do: the services take the actor from the internal token the gateway signs (ADR 0002, issue 9).
FORWARDED_REQUEST_HEADERS = ("content-type", "idempotency-key", "accept", "accept-language")
# Preferences a server may disregard (RFC 9110 §12.5.1, §12.5.4): an unusable value (non-ASCII, invalid UTF-8) is
# dropped and the service answers in its default, rather than refusing a request over a broken browser setting.
# The other forwarded headers change what the request means (its body's type, its once-only key): an unusable
# one is refused with a 422 naming it.
IGNORED_WHEN_UNUSABLE = frozenset({"accept", "accept-language"})
# Caller ids the gateway passes on (and the services put into every event): a token, not text.
CALLER_IDS = ("x-request-id", "x-correlation-id")
MAX_CALLER_ID_LENGTH = 200
# What a caller may need from the service's answer besides the body: its type, a receipt's file name, where a
# created resource lives, when to retry, and whether this is the stored answer to an Idempotency-Key.
RETURNED_RESPONSE_HEADERS = (
    "content-type",
    "content-disposition",
    "location",
    "retry-after",
    "idempotent-replayed",
)
# Seconds a caller waits after the gateway's 503 (docs/adr/0011-outages-are-503.md): a service process that
# stopped is restarted within a few seconds; a gateway out of upstream connections frees one much sooner.
RETRY_AFTER_UPSTREAM_S = 5
RETRY_AFTER_BUSY_S = 1
# A header value that can be forwarded: printable ASCII and tab. Starlette reads header bytes as Latin-1, so
# non-ASCII and invalid UTF-8 both arrive as characters above 0x7e, which httpx refuses to send.
_FORWARDABLE = re.compile(r"[\t\x20-\x7e]*")
_CALLER_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_CALLER_ID_LENGTH}}}")


def forwarded_headers(request: Request) -> dict[str, str]:
    """The caller's headers that reach the service; a 422 naming the header when one is unusable."""
    headers: dict[str, str] = {}
    for name in FORWARDED_REQUEST_HEADERS:
        value = request.headers.get(name)
        if not value:
            continue
        if name == "idempotency-key":
            reason = idempotency.key_problem(value)
        else:
            reason = None if _FORWARDABLE.fullmatch(value) else "must be ASCII text"
        if reason is None:
            headers[name] = value
        elif name not in IGNORED_WHEN_UNUSABLE:
            raise problems.InvalidInput(
                f"{name}: {reason}", errors=[{"path": f"header.{name}", "reason": reason}]
            )
    for name in CALLER_IDS:
        value = request.headers.get(name)
        if value is not None and not _CALLER_ID.fullmatch(value):
            reason = f"must be 1 to {MAX_CALLER_ID_LENGTH} visible ASCII characters"
            raise problems.InvalidInput(
                f"{name}: {reason}", errors=[{"path": f"header.{name}", "reason": reason}]
            )
    return headers


def upstream_headers(
    request: Request, principal: Principal, gateway: Gateway, service: str
) -> dict[str, str]:
    ctx = get_context(request)
    headers = forwarded_headers(request)
    headers.update(
        {
            "X-Request-Id": ctx.request_id or ctx.correlation_id,
            "X-Correlation-Id": ctx.correlation_id,
            # Who acts, signed for this one service (btkernel.internal_token): its only source of the actor.
            internal_token.HEADER: gateway.internal_tokens.token_for(principal, service),
        }
    )
    # The W3C trace context of the gateway's client span (ADR 0028). A caller's own `traceparent` is not in the
    # allow-list above: the gateway's server span started a new trace and only links it (btkernel.tracing).
    tracing.inject(headers)
    return headers


def _upstream_url(base: str, request: Request) -> str:
    # The raw path keeps the caller's percent-encoding: decoding and re-encoding could change what an id means.
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode("ascii")
    url = base.rstrip("/") + raw_path.decode("ascii")
    query: bytes = request.scope.get("query_string", b"")
    return f"{url}?{query.decode('ascii')}" if query else url


async def forward(request: Request, route: Route, principal: Principal, gateway: Gateway) -> Response:
    """Send the request to the owning service and relay its status, body and content headers."""
    url = _upstream_url(gateway.upstreams[route.service], request)
    # One client span per relayed request (a resend on a fresh connection, gateway.upstream, is inside it).
    with tracing.http_client_span(request.method, route.path, url, route.service) as span:
        response = await _send(request, route, principal, gateway, url)
        tracing.client_answered(span, response.status_code)
    return response


async def _send(request: Request, route: Route, principal: Principal, gateway: Gateway, url: str) -> Response:
    headers = upstream_headers(request, principal, gateway, route.service)
    body = await request.body()
    try:
        # Another instance of the service takes it when this one is away (gateway.balancer, ADR 0029).
        upstream = await gateway.send(
            route.service, request.method, url, content=body or None, headers=headers
        )
    except httpx.PoolTimeout as exc:
        # Nothing was sent: every connection of the gateway's pool is busy.
        return _unavailable(request, route.service, exc, retry_after_s=RETRY_AFTER_BUSY_S)
    except httpx.ConnectTimeout as exc:
        return _unavailable(request, route.service, exc)
    except httpx.TimeoutException as exc:
        log.warning("upstream_timeout", upstream=route.service, url=url, error=repr(exc))
        # The service may still complete the request; a retry with the same Idempotency-Key is safe.
        return problems.problem_response(
            504,
            "Gateway timeout",
            f"the {route.service} service did not answer within {gateway.settings.upstream_timeout_s:g} s",
            request.url.path,
            service=route.service,
        )
    except httpx.TransportError as exc:
        return _unavailable(request, route.service, exc)
    return _relayed(upstream)


def _relayed(upstream: httpx.Response) -> Response:
    response = Response(upstream.content, status_code=upstream.status_code)
    # The raw bytes: a header value the service wrote (a file name) goes back exactly as it came.
    response.raw_headers.extend(
        (name.lower(), value) for name, value in upstream.headers.raw if name.lower() in _RETURNED
    )
    if upstream.status_code == 503 and "retry-after" not in upstream.headers:
        # An outage is always a 503 with Retry-After, whoever in the chain noticed it.
        response.headers["Retry-After"] = str(RETRY_AFTER_UPSTREAM_S)
    return response


_RETURNED = frozenset(name.encode() for name in RETURNED_RESPONSE_HEADERS)


def _unavailable(
    request: Request, service: str, exc: Exception, *, retry_after_s: int = RETRY_AFTER_UPSTREAM_S
) -> Response:
    log.warning("upstream_unavailable", upstream=service, error=repr(exc))
    return problems.unavailable_response(
        f"the {service} service is unavailable",
        request.url.path,
        retry_after_s=retry_after_s,
        service=service,
    )


def _endpoint(by_method: dict[str, Route]) -> Callable[..., Awaitable[Response]]:
    # Only the request as a parameter: FastAPI's dependency solving for the principal and the gateway cost more
    # than the checks themselves on every relayed request (issue 13); the checks are gateway.auth's, unchanged.
    async def relay(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        principal = await request_principal(request, gateway)
        # The router only calls this for the methods registered with it, so the lookup cannot miss.
        route = by_method[request.method]
        authorize(principal, route.roles)
        return await forward(request, route, principal, gateway)

    return relay


def router(table: RouteTable) -> APIRouter:
    """One router entry per path template with all its methods, so a wrong method gets a 405 listing them all.
    Hidden from the gateway's own schema: the merged document takes these operations from the services."""
    api = APIRouter()
    for path, by_method in table.by_path():
        api.add_api_route(
            path,
            _endpoint(by_method),
            methods=sorted(by_method),
            include_in_schema=False,
            name=f"proxy:{path}",
        )
    return api
