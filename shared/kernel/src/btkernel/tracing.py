"""OpenTelemetry traces: one application's path from the gateway through every service and across Kafka (ADR 0028).

One tracer provider per process, `service.name` = BT_SERVICE_NAME, exporting through a batch processor to
OTLP/HTTP (BT_OTEL_EXPORTER_OTLP_ENDPOINT, production) or to a JSON-lines file (BT_TRACE_FILE, tests and
`make run`), or nowhere (the default). Off, every helper here returns a non-recording span after one flag test:
no ids are drawn, nothing is formatted, nothing rides on events (issue 13: per-submission CPU).

The spans, few per hop (OTel semantic conventions):

* `http_server_span`: a request to a service or the gateway (SERVER). It continues the caller's W3C `traceparent`
  only when told to trust it: a service trusts the gateway (a verified internal token); the gateway trusts no
  caller and starts a new trace, *linking* the caller's context if one came, so nobody outside picks our trace ids.
* `http_client_span`: the gateway's call to a service (CLIENT); `inject` puts its `traceparent` on the request.
* An event carries the context of the span that wrote it (`carrier()`, taken by `Envelope.new`) as the
  CloudEvents Distributed Tracing extension `traceparent`/`tracestate`.
* `send_span`: the relay's send of an outbox row (PRODUCER), child of the event's context; the record on the
  wire carries the producer span's context instead.
* `consumer_span`: a consumer's processing of one event (CONSUMER), child of the record's context, current while
  the handler runs, so the events it writes continue the same trace.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, MutableMapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

# The CloudEvents Distributed Tracing extension's attribute names, also the W3C header names.
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
# Span attributes of ours that find one request's spans (the ids every log line and event carries too).
CORRELATION_ID = "bt.correlation_id"
REQUEST_ID = "bt.request_id"
# Probes and scrapes, every few seconds from every watcher: traces of nothing, which would bury the real ones.
UNTRACED_PATHS = frozenset({"/health", "/metrics"})

OTLP_TIMEOUT_S = 3.0
_PROPAGATOR = TraceContextTextMapPropagator()
_NOOP = trace.NoOpTracer()
E = TypeVar("E")
# What every helper gives when tracing is off: records nothing, ends as a no-op.
NO_SPAN: Span = trace.INVALID_SPAN


@dataclass
class _State:
    enabled: bool = False
    tracer: trace.Tracer = _NOOP
    provider: TracerProvider | None = None
    key: tuple[str, ...] = ()


_state = _State()
_lock = threading.Lock()


def configure(
    service: str,
    *,
    trace_file: str = "",
    otlp_endpoint: str = "",
    exporter: SpanExporter | None = None,
    schedule_delay_ms: int | None = None,
) -> None:
    """This process's tracing: OTLP/HTTP to `otlp_endpoint` (the collector's base URL, `/v1/traces` added), or
    JSON lines appended to `trace_file`, or `exporter` (tests); none of them turns tracing off."""
    key = (service, trace_file, otlp_endpoint, str(id(exporter)) if exporter else "")
    with _lock:
        if key == _state.key:
            return  # an app built twice in one process (migration step, tests): one provider
        _shutdown_locked()
        _state.key = key
        chosen = exporter or _exporter(trace_file, otlp_endpoint)
        if chosen is None:
            return
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        # A file is read by a developer or a test a moment later; a collector takes larger, rarer batches.
        delay = schedule_delay_ms if schedule_delay_ms is not None else (500 if trace_file else 5000)
        provider.add_span_processor(BatchSpanProcessor(chosen, schedule_delay_millis=delay))
        _state.provider = provider
        _state.tracer = provider.get_tracer("btkernel")
        _state.enabled = True


def _exporter(trace_file: str, otlp_endpoint: str) -> SpanExporter | None:
    if otlp_endpoint:
        # Imported only when used: protobuf and requests cost start-up time a process without a collector saves.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        base = otlp_endpoint.rstrip("/")
        # Bounded, retries included, so a collector that is away delays a stopping service by seconds, not more.
        return OTLPSpanExporter(
            endpoint=base if base.endswith("/v1/traces") else f"{base}/v1/traces", timeout=OTLP_TIMEOUT_S
        )
    if trace_file:
        return JsonLinesExporter(trace_file)
    return None


def _shutdown_locked() -> None:
    provider, _state.provider = _state.provider, None
    _state.enabled, _state.tracer, _state.key = False, _NOOP, ()
    if provider is not None:
        provider.shutdown()


def shutdown() -> None:
    """Export what is pending and turn tracing off (tests; a process's exit does this by itself)."""
    with _lock:
        _shutdown_locked()


def flush(timeout_ms: int = 3000) -> None:
    """Export the spans still queued (a service stopping)."""
    provider = _state.provider
    if provider is not None:
        provider.force_flush(timeout_ms)


def enabled() -> bool:
    return _state.enabled


# -- context carriage -----------------------------------------------------------------------------------------------


def carrier() -> dict[str, str]:
    """The current span's W3C trace context (`traceparent`, maybe `tracestate`); empty when off or outside a span."""
    if not _state.enabled:
        return {}
    found: dict[str, str] = {}
    _PROPAGATOR.inject(found)
    return found


def inject(headers: MutableMapping[str, str]) -> None:
    """Put the current span's `traceparent` (and `tracestate`) on an outgoing request's headers."""
    if _state.enabled:
        _PROPAGATOR.inject(headers)


def extract(traceparent: str | None, tracestate: str | None = None) -> otel_context.Context | None:
    """The remote parent a `traceparent` names, or None when it is missing or malformed."""
    if not traceparent:
        return None
    found: dict[str, str] = {TRACEPARENT: traceparent}
    if tracestate:
        found[TRACESTATE] = tracestate
    ctx = _PROPAGATOR.extract(found)
    return ctx if trace.get_current_span(ctx).get_span_context().is_valid else None


# -- spans ----------------------------------------------------------------------------------------------------------


@contextmanager
def http_server_span(
    method: str, path: str, headers: Mapping[str, str], *, trust_parent: bool
) -> Iterator[Span]:
    """The span of one request in this process, current while it is handled. Its name gets the route template
    (`name_by_route`) once routing found it."""
    if not _state.enabled or path in UNTRACED_PATHS:
        yield NO_SPAN
        return
    remote = extract(headers.get(TRACEPARENT), headers.get(TRACESTATE))
    parent: otel_context.Context | None = otel_context.Context()  # a new trace unless trusted
    links: Sequence[Link] = ()
    if remote is not None and trust_parent:
        parent = remote
    elif remote is not None:
        links = (Link(trace.get_current_span(remote).get_span_context()),)
    with _state.tracer.start_as_current_span(
        method,
        context=parent,
        kind=SpanKind.SERVER,
        links=links,
        attributes={"http.request.method": method, "url.path": path},
    ) as span:
        yield span


def name_by_route(span: Span, method: str, route: str | None, status: int) -> None:
    """The server span's name and attributes once the response is known (`{method} {route}` per the conventions)."""
    if not span.is_recording():
        return
    if route:
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))


@contextmanager
def http_client_span(method: str, route: str, url: str, peer_service: str) -> Iterator[Span]:
    """The gateway's call of a service, current while it is sent, so `inject` puts its context on the request."""
    if not _state.enabled:
        yield NO_SPAN
        return
    with _state.tracer.start_as_current_span(
        f"{method} {route}",
        kind=SpanKind.CLIENT,
        attributes={
            "http.request.method": method,
            "url.full": url,
            "url.template": route,
            "peer.service": peer_service,
        },
    ) as span:
        yield span


def client_answered(span: Span, status: int) -> None:
    """The status the gateway relays (its own 503/504 when the service could not answer) on its client span."""
    if span.is_recording():
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))


def _event_attributes(envelope: Any, topic: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.message.id": envelope.id,
        "messaging.kafka.message.key": envelope.subject,
        "cloudevents.event_id": envelope.id,
        "cloudevents.event_type": envelope.type,
        "cloudevents.event_source": envelope.source,
        "cloudevents.event_subject": envelope.subject,
    }
    if envelope.correlation_id:
        attributes[CORRELATION_ID] = envelope.correlation_id
    return attributes


def send_span(envelope: E, topic: str) -> tuple[Span, E]:
    """A started (not current) send span of `envelope` (a `btkernel.envelope.Envelope`), child of the context the
    event was written in, and the envelope carrying that span's context for the record; the caller ends the span."""
    if not _state.enabled:
        return NO_SPAN, envelope
    written: Any = envelope
    span = _state.tracer.start_span(
        f"send {topic}",
        context=extract(written.traceparent, written.tracestate) or otel_context.Context(),
        kind=SpanKind.PRODUCER,
        attributes={
            **_event_attributes(written, topic),
            "messaging.operation.type": "send",
            "messaging.operation.name": "send",
        },
    )
    found: dict[str, str] = {}
    _PROPAGATOR.inject(found, context=trace.set_span_in_context(span))
    sent = dataclasses.replace(written, traceparent=found.get(TRACEPARENT), tracestate=found.get(TRACESTATE))
    return span, cast(E, sent)


@asynccontextmanager
async def consumer_span(
    envelope: Any, *, topic: str, group: str, partition: int, offset: int
) -> AsyncIterator[Span]:
    """The processing of one event by a consumer group, child of the record's context, current while the handler
    runs: the events it writes carry this span's context onward."""
    if not _state.enabled:
        yield NO_SPAN
        return
    with _state.tracer.start_as_current_span(
        f"process {topic}",
        context=extract(envelope.traceparent, envelope.tracestate) or otel_context.Context(),
        kind=SpanKind.CONSUMER,
        attributes={
            **_event_attributes(envelope, topic),
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.consumer.group.name": group,
            "messaging.destination.partition.id": str(partition),
            "messaging.kafka.offset": offset,
        },
    ) as span:
        yield span


# -- the file exporter ----------------------------------------------------------------------------------------------


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """One finished span as one JSON object: ids in lowercase hex as on the wire (W3C trace context)."""
    ctx = span.get_span_context()
    assert ctx is not None
    return {
        "service": span.resource.attributes.get("service.name"),
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        "start_unix_nano": span.start_time,
        "end_unix_nano": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "links": [
            {
                "trace_id": format(link.context.trace_id, "032x"),
                "span_id": format(link.context.span_id, "016x"),
            }
            for link in span.links
        ],
    }


class JsonLinesExporter(SpanExporter):
    """Appends one JSON object per span to a file, a batch per write(2) on an O_APPEND descriptor, so several
    processes of one service (its relay process, replicas) may share the file without tearing lines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        lines = "".join(json.dumps(span_record(s), ensure_ascii=False, default=str) + "\n" for s in spans)
        try:
            if self._fd is None:
                # Opened at the first span, so a process that traces nothing (the migration step) leaves no file.
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(self._fd, lines.encode())
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
