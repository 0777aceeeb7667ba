"""Prometheus metrics every service exposes at /metrics: request latency, consumer lag, outbox backlog and parked
events, health checks."""

from __future__ import annotations

import time

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_LATENCY = Histogram(
    "bt_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CONSUMER_LAG = Gauge(
    "bt_consumer_lag_messages",
    "Messages behind the partition end",
    ["service", "group", "topic", "partition"],
)
CONSUMER_PROCESSED = Counter(
    "bt_consumer_events_total", "Events handled by outcome", ["service", "group", "outcome"]
)
OUTBOX_BACKLOG = Gauge("bt_outbox_backlog_events", "Outbox events not yet published", ["service"])
OUTBOX_PUBLISHED = Counter("bt_outbox_published_total", "Outbox events published", ["service"])
OUTBOX_PRUNED = Counter(
    "bt_outbox_pruned_total", "Published outbox rows deleted past the retention (ADR 0044)", ["service"]
)
# Alert on bt_outbox_parked > 0: each parked row holds back every later event of its aggregate (ADR 0009).
OUTBOX_PARKED = Gauge(
    "bt_outbox_parked", "Outbox events parked after a publish error they cannot outlive", ["service"]
)
OUTBOX_PARKED_TOTAL = Counter("bt_outbox_parks", "Outbox events parked, by error type", ["service", "error"])
OUTBOX_OLDEST_PENDING = Gauge(
    "bt_outbox_oldest_pending_seconds", "Age of the oldest outbox event not yet published", ["service"]
)
HEALTH_STATUS = Gauge(
    "bt_health_degraded", "1 while /health reports a check as degraded or unavailable", ["service", "check"]
)


class RequestTiming:
    """Request latency by route template; a pure ASGI middleware (BaseHTTPMiddleware's extra task and response
    queue per request were a large share of a submission's framework cost, issue 13)."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            # The route template, not the raw path: ids in paths would explode the label set.
            path = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_LATENCY.labels(self.service, scope["method"], path, str(status)).observe(
                time.perf_counter() - start
            )


def install(app: FastAPI, service: str) -> None:
    app.add_middleware(RequestTiming, service=service)

    @app.get("/metrics", include_in_schema=False)
    async def _metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
