"""Forwarding: one endpoint per path of the route table that checks the role and relays to the owning service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from fastapi import APIRouter, Request, Response

from btkernel import logging as btlog
from btkernel import problems
from btkernel.context import encode_name
from btkernel.service import get_context
from gateway.auth import PrincipalDep, authorize
from gateway.routes import Route, RouteTable
from gateway.state import Gateway, GatewayDep
from gateway.tokens import Principal

log = btlog.get(__name__)

# Only these caller headers reach a service. An allow-list, so Authorization and any X-Actor-* a caller made up
# never do: the services trust X-Actor-* as the gateway's word.
FORWARDED_REQUEST_HEADERS = ("content-type", "idempotency-key", "accept", "accept-language")
# What a caller may need from the service's answer besides the body: its type, a receipt's file name, where a
# created resource lives, when to retry.
RETURNED_RESPONSE_HEADERS = ("content-type", "content-disposition", "location", "retry-after")


def upstream_headers(request: Request, principal: Principal) -> dict[str, str]:
    ctx = get_context(request)
    headers = {name: value for name in FORWARDED_REQUEST_HEADERS if (value := request.headers.get(name))}
    headers.update(
        {
            "X-Request-Id": ctx.request_id or ctx.correlation_id,
            "X-Correlation-Id": ctx.correlation_id,
            "X-Actor-Id": principal.username,
            # Full names are Cyrillic and header values ASCII: percent-encoded UTF-8, as conventions.md says.
            "X-Actor-Name": encode_name(principal.full_name),
            "X-Actor-Role": principal.role,
            "X-Actor-Site": principal.site or "",
        }
    )
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
    body = await request.body()
    try:
        upstream = await gateway.http.request(
            request.method, url, content=body or None, headers=upstream_headers(request, principal)
        )
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
    headers = {name: value for name in RETURNED_RESPONSE_HEADERS if (value := upstream.headers.get(name))}
    return Response(upstream.content, status_code=upstream.status_code, headers=headers)


def _unavailable(request: Request, service: str, exc: Exception) -> Response:
    log.warning("upstream_unavailable", upstream=service, error=repr(exc))
    return problems.problem_response(
        503, "Service unavailable", f"the {service} service is unavailable", request.url.path, service=service
    )


def _endpoint(by_method: dict[str, Route]) -> Callable[..., Awaitable[Response]]:
    async def relay(request: Request, principal: PrincipalDep, gateway: GatewayDep) -> Response:
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
