"""The composition root every service shares: settings, logging, pool, migrations, relay, consumers, metrics,
problem details, request context and health — so a service's own `main.py` only names its routers and handlers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from btkernel import access, clock, context, db, internal_token, metrics, migrate, problems, tracing
from btkernel import logging as btlog
from btkernel.budget import RequestBudget
from btkernel.consumer import Handler, IdempotentConsumer
from btkernel.context import Actor, RequestContext
from btkernel.health import HealthMonitor
from btkernel.history.monitor import HistoryMonitor
from btkernel.kafka_client import client_options
from btkernel.limits import RequestLimits
from btkernel.outbox import OutboxRelay
from btkernel.permissions import Policy
from btkernel.settings import ServiceSettings

log = btlog.get(__name__)


@dataclass
class ConsumerSpec:
    group: str
    topics: Sequence[str]
    handler: Handler
    event_types: Iterable[str] | None = None


@dataclass
class Runtime:
    settings: ServiceSettings
    pool: asyncpg.Pool
    relay: OutboxRelay | None = None
    consumers: list[IdempotentConsumer] = field(default_factory=list)
    health: HealthMonitor | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def create_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    migrations: str | None,
    routers: Sequence[APIRouter],
    policy: Policy = Policy(()),
    consumers: Sequence[ConsumerSpec] = (),
    on_start: Callable[[Runtime], Awaitable[None]] | None = None,
    on_stop: Callable[[Runtime], Awaitable[None]] | None = None,
    health: bool = True,
    internal_tokens: bool = True,
) -> FastAPI:
    """`internal_tokens`: whether requests carry the gateway's internal token (btkernel.internal_token), the only
    source of the actor; False for the gateway itself, which authenticates people."""
    btlog.configure(settings.service_name, settings.log_level)
    tracing.configure(
        settings.service_name,
        trace_file=settings.trace_file,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
    )
    verifier = (
        internal_token.verifier_from_settings(settings.internal_token_public_key, settings.service_name)
        if internal_tokens
        else None
    )
    migration_packages = (migrations,) if migrations else ()
    clock.set_offset(settings.clock_offset_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if internal_tokens and verifier is None and settings.env == "production":
            # Elsewhere such a service starts and authenticates nobody; it never falls back to trusting headers.
            raise RuntimeError(
                "BT_INTERNAL_TOKEN_PUBLIC_KEY is not set: a production service cannot verify the gateway's tokens"
            )
        pool = await db.create_pool(settings.database_url, max_size=settings.db_pool_max)
        try:
            # Deployed, `python -m btkernel.migrate` ran once before any replica; each replica only checks that
            # its schema is the one its code expects, and refuses to start otherwise (ADR 0015).
            if settings.migrates_on_start:
                await migrate.apply(pool, *migration_packages)
            else:
                await migrate.verify(pool, *migration_packages)
        except BaseException:
            await pool.close()
            raise
        rt = Runtime(settings=settings, pool=pool)
        app.state.runtime = rt
        if settings.relay_enabled:
            rt.relay = OutboxRelay.from_settings(settings, client_options(settings))
            rt.relay.start()
        if settings.consumers_enabled:
            for spec in consumers:
                consumer = IdempotentConsumer(
                    pool=pool,
                    kafka=client_options(settings),
                    group_id=spec.group,
                    topics=spec.topics,
                    handler=spec.handler,
                    service=settings.service_name,
                    max_attempts=settings.consumer_max_attempts,
                    retry_backoff_s=settings.consumer_retry_backoff_s,
                    event_types=spec.event_types,
                    fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
                )
                consumer.start()
                rt.consumers.append(consumer)
        if health:
            rt.health = HealthMonitor(
                service=settings.service_name, pool=pool, settings=settings, consumers=rt.consumers
            )
            rt.health.start()
            # The history's seals and scheduled verification; a broken chain makes /health unavailable (ADR 0030).
            history = HistoryMonitor(service=settings.service_name, pool=pool, settings=settings)
            rt.extras["history"] = history
            rt.health.extra_checks["history"] = history.check
            history.start()
        try:
            # Inside the try: a failing start still stops the relay, the consumers and the pool it started.
            if on_start:
                await on_start(rt)
            log.info("service_started", port=settings.http_port)
            yield
        finally:
            if on_stop:
                await on_stop(rt)
            if "history" in rt.extras:
                await rt.extras["history"].stop()
            if rt.health:
                await rt.health.stop()
            for c in rt.consumers:
                await c.stop()
            if rt.relay:
                await rt.relay.stop()
            await pool.close()
            tracing.flush()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    # What `python -m btkernel.migrate <module>:app` applies before the service starts (the kernel's come first).
    app.state.migrations = migration_packages
    # Innermost: the handler's time budget, counted once the body has been read whole (btkernel.budget).
    app.add_middleware(RequestBudget, timeout_s=settings.request_timeout_s)
    # Next, so refusals still carry the request id and are counted in the metrics.
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes)
    problems.install(app)
    metrics.install(app, settings.service_name)
    _install_context(app, verifier, internal_tokens)

    async def health_check(request: Request) -> JSONResponse:
        # ok | degraded (200, with reasons) | unavailable (503): the checks are btkernel.health's.
        monitor: HealthMonitor = request.app.state.runtime.health
        status_code, body = await monitor.report()
        return JSONResponse(body, status_code=status_code)

    async def history_seals(request: Request) -> JSONResponse:
        # Public facts with no personal data: the gateway's /history/seals gathers them (ADR 0030).
        monitor: HistoryMonitor = request.app.state.runtime.extras["history"]
        return JSONResponse({"service": settings.service_name, "seals": await monitor.seals()})

    if health:
        app.add_api_route(
            "/health", health_check, methods=["GET"], tags=["health"], summary="Readiness of this service"
        )
        app.add_api_route(
            "/history/seals",
            history_seals,
            methods=["GET"],
            tags=["health"],
            summary="The latest signed seals of this service's history",
        )
    # Each public route behind the policy table's role check (btkernel.access, ADR 0014).
    access.install(app, routers, policy)
    return app


def _install_context(app: FastAPI, verifier: internal_token.Verifier | None, internal_tokens: bool) -> None:
    """The request's context; its actor only from a verified internal token (X-Actor-* headers mean nothing).
    An invalid token is a 401 naming why, before any handler; no token, no actor (get_actor's 401)."""
    app.add_middleware(RequestContextMiddleware, verifier=verifier, internal_tokens=internal_tokens)


class RequestContextMiddleware:
    """A pure ASGI middleware, not `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs the rest of the
    app in a task of its own and streams the response through a queue, the largest framework cost per request in
    the submission's profile (issue 13)."""

    def __init__(
        self, app: ASGIApp, *, verifier: internal_token.Verifier | None, internal_tokens: bool
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.internal_tokens = internal_tokens

    def _actor(self, presented: str | None) -> tuple[Actor | None, str | None]:
        if presented is None or not self.internal_tokens:
            return None, None
        if self.verifier is None:
            return None, "this service has no key to verify internal tokens (BT_INTERNAL_TOKEN_PUBLIC_KEY)"
        try:
            return self.verifier.verify(presented).actor, None
        except internal_token.InvalidToken as exc:
            return None, f"internal token refused: {exc.reason}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = headers.get("x-request-id") or str(uuid.uuid4())
        correlation_id = headers.get("x-correlation-id") or request_id
        presented = headers.get(internal_token.HEADER)
        actor, refusal = self._actor(presented)
        status = 500

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = MutableHeaders(scope=message)
                out["X-Request-Id"] = request_id
                out["X-Correlation-Id"] = correlation_id
            await send(message)

        method, path = scope["method"], scope["path"]
        # A caller's trace context is continued only from the gateway (a verified internal token); anyone else's,
        # the gateway's own callers' included, starts a new trace that links it (btkernel.tracing, ADR 0028).
        with tracing.http_server_span(method, path, headers, trust_parent=actor is not None) as span:
            if span.is_recording():
                span.set_attributes({tracing.REQUEST_ID: request_id, tracing.CORRELATION_ID: correlation_id})
            try:
                if refusal is not None:
                    response = problems.problem_response(
                        401, "Not authenticated", refusal, path, code="invalid_internal_token"
                    )
                    await response(scope, receive, send_with_ids)
                    return
                ctx = RequestContext(correlation_id=correlation_id, request_id=request_id, actor=actor)
                scope.setdefault("state", {})["ctx"] = ctx
                token = context.bind(ctx)
                vouched = internal_token.bind(presented if actor is not None else None)
                try:
                    await self.app(scope, receive, send_with_ids)
                finally:
                    internal_token.unbind(vouched)
                    context.unbind(token)
            finally:
                tracing.name_by_route(span, method, getattr(scope.get("route"), "path", None), status)


# -- dependencies for routers --


def get_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def get_pool(request: Request) -> asyncpg.Pool:
    return get_runtime(request).pool


def get_context(request: Request) -> RequestContext:
    ctx: RequestContext = request.state.ctx
    return ctx


def get_actor(request: Request) -> Actor:
    ctx = get_context(request)
    if ctx.actor is None:
        raise problems.Unauthorized("no authenticated actor: call this service through the gateway")
    return ctx.actor


# FastAPI runs a plain `def` dependency in a worker thread: two thread hops a request for a dictionary lookup
# (issue 13's profile). The dependencies are these coroutine twins; the plain functions stay for direct calls.
async def _pool(request: Request) -> asyncpg.Pool:
    return get_pool(request)


async def _context(request: Request) -> RequestContext:
    return get_context(request)


async def _actor(request: Request) -> Actor:
    return get_actor(request)


PoolDep = Annotated[asyncpg.Pool, Depends(_pool)]
# The `application_id` query parameter of the per-application views (fees, notifications, …).
ApplicationIdQuery = Annotated[
    str,
    Query(
        min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$", description="the application to look at"
    ),
]
ContextDep = Annotated[RequestContext, Depends(_context)]
ActorDep = Annotated[Actor, Depends(_actor)]


def require_role(actor: Actor, *roles: str) -> None:
    """A check that depends on more than the route (a branch inside a handler). The route's own roles are the
    policy table's, checked before any handler runs (btkernel.access); never repeat them here."""
    if actor.role not in roles:
        raise problems.Forbidden(
            f"role {actor.role or '(none)'} may not do this; needs one of: {', '.join(roles)}",
            allowed_roles=sorted(roles),
        )
