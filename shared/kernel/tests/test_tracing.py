"""The trace context rides on events (CloudEvents `traceparent`/`tracestate`) from the span that wrote them, through
the relay's send span, to the consumer's processing span, whose own events carry it on (ADR 0028)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from btkernel import internal_token, tracing
from btkernel.context import Actor
from btkernel.envelope import Envelope
from btkernel.permissions import Permission, Policy
from btkernel.service import ActorDep, create_app
from btkernel.settings import ServiceSettings

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure("test-service", exporter=exporter)
    yield exporter
    tracing.shutdown()


def finished(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    tracing.flush()
    return {span.name: span for span in exporter.get_finished_spans()}


def new_envelope(subject: str = "app-1") -> Envelope:
    return Envelope.new(
        type="kz.test.thing.happened.v1",
        source="/test",
        subject=subject,
        data={"n": 1},
        correlation_id="corr-1",
        causation_id=None,
    )


def trace_of(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def id_of(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.span_id, "016x")


def parent_of(span: ReadableSpan) -> str | None:
    return format(span.parent.span_id, "016x") if span.parent else None


def ids(traceparent: str | None) -> tuple[str, str]:
    assert traceparent is not None
    _version, trace_id, span_id, _flags = traceparent.split("-")
    return trace_id, span_id


def test_an_event_carries_the_context_of_the_span_that_wrote_it(spans: InMemorySpanExporter) -> None:
    with tracing.http_server_span("POST", "/things", {}, trust_parent=True) as span:
        env = new_envelope()
    ctx = span.get_span_context()
    assert ids(env.traceparent) == (format(ctx.trace_id, "032x"), format(ctx.span_id, "016x"))

    key, value, headers = env.to_kafka()
    assert dict(headers)["ce_traceparent"] == env.traceparent.encode()  # type: ignore[union-attr]
    assert Envelope.from_kafka(key, value, headers).traceparent == env.traceparent
    assert Envelope.from_json(env.to_json()) == env


def test_off_nothing_rides_on_the_event() -> None:
    tracing.shutdown()
    with tracing.http_server_span("POST", "/things", {"traceparent": CALLER}, trust_parent=True) as span:
        env = new_envelope()
    assert not span.is_recording()
    assert env.traceparent is None
    assert "traceparent" not in env.to_json()
    assert not any(name == "ce_traceparent" for name, _ in env.to_kafka()[2])
    assert tracing.send_span(env, "things")[1] is env


async def test_one_trace_from_the_request_through_send_and_processing_to_the_next_event(
    spans: InMemorySpanExporter,
) -> None:
    with tracing.http_server_span("POST", "/things", {}, trust_parent=True):
        written = new_envelope()

    send, on_the_wire = tracing.send_span(written, "civreg.thing")
    send.end()
    key, value, headers = on_the_wire.to_kafka()
    received = Envelope.from_kafka(key, value, headers)
    async with tracing.consumer_span(received, topic="civreg.thing", group="g.one", partition=0, offset=7):
        caused = new_envelope("case-1")

    got = finished(spans)
    server, sent, processed = got["POST"], got["send civreg.thing"], got["process civreg.thing"]
    assert {trace_of(s) for s in (server, sent, processed)} == {trace_of(server)}
    assert parent_of(server) is None
    assert parent_of(sent) == id_of(server)
    assert parent_of(processed) == id_of(sent)
    # The event the consumer wrote continues the trace from its processing span.
    assert ids(caused.traceparent) == (trace_of(processed), id_of(processed))
    assert processed.attributes is not None
    assert processed.attributes["messaging.system"] == "kafka"
    assert processed.attributes["messaging.destination.name"] == "civreg.thing"
    assert processed.attributes["messaging.consumer.group.name"] == "g.one"
    assert processed.attributes[tracing.CORRELATION_ID] == "corr-1"
    assert (sent.kind.name, processed.kind.name) == ("PRODUCER", "CONSUMER")


def test_a_trusted_caller_is_continued_an_untrusted_one_only_linked(spans: InMemorySpanExporter) -> None:
    caller_trace, caller_span = ids(CALLER)
    with tracing.http_server_span("GET", "/a", {"traceparent": CALLER}, trust_parent=True) as trusted:
        pass
    with tracing.http_server_span("GET", "/b", {"traceparent": CALLER}, trust_parent=False) as untrusted:
        pass
    with tracing.http_server_span("GET", "/c", {"traceparent": "00-zz-broken"}, trust_parent=True) as broken:
        pass

    assert format(trusted.get_span_context().trace_id, "032x") == caller_trace
    assert format(untrusted.get_span_context().trace_id, "032x") != caller_trace
    tracing.flush()
    by_path = {s.attributes["url.path"]: s for s in spans.get_finished_spans() if s.attributes}
    trusted_span, untrusted_span, broken_span = by_path["/a"], by_path["/b"], by_path["/c"]
    assert parent_of(trusted_span) == caller_span
    assert parent_of(untrusted_span) is None
    assert [format(link.context.span_id, "016x") for link in untrusted_span.links] == [caller_span]
    assert (parent_of(broken_span), broken_span.links) == (None, ())
    assert broken.get_span_context().is_valid


def test_spans_go_to_a_json_lines_file(tmp_path: Path) -> None:
    path = tmp_path / "svc.traces.jsonl"
    tracing.configure("svc", trace_file=str(path))
    try:
        with tracing.http_server_span("GET", "/x", {}, trust_parent=True) as span:
            tracing.name_by_route(span, "GET", "/x/{id}", 503)
        tracing.flush()
    finally:
        tracing.shutdown()
    (line,) = path.read_text().splitlines()
    record = json.loads(line)
    assert record["service"] == "svc"
    assert record["name"] == "GET /x/{id}"
    assert record["kind"] == "SERVER"
    assert record["status"] == "ERROR"
    assert record["parent_span_id"] is None
    assert (len(record["trace_id"]), len(record["span_id"])) == (32, 16)
    assert record["attributes"]["http.route"] == "/x/{id}"
    assert record["attributes"]["http.response.status_code"] == 503


def test_no_exporter_configured_is_off(tmp_path: Path) -> None:
    tracing.configure("svc")
    assert not tracing.enabled()
    assert tracing.carrier() == {}


def _service() -> FastAPI:
    router = APIRouter()

    @router.get("/api/v1/things/{thing_id}")
    async def thing(thing_id: str, actor: ActorDep) -> dict[str, str]:
        return {"id": thing_id}

    policy = Policy((Permission("GET", "/api/v1/things/{thing_id}", frozenset({"centre_operator"})),))
    settings = ServiceSettings(
        env="test",
        service_name="intake",
        internal_token_public_key=internal_token.public_key_pem(GATEWAY.public_key),
    )
    return create_app(
        settings=settings, title="t", description="d", migrations=None, routers=[router], policy=policy
    )


GATEWAY = internal_token.Signer(internal_token.generate_private_key())
OPERATOR = Actor(id="op-1", name="Оператор", role="centre_operator", site="almaty-con-1")


def test_a_service_continues_the_gateways_trace_and_no_one_elses() -> None:
    client = TestClient(_service())  # building it configures tracing from its settings: off
    exporter = InMemorySpanExporter()
    tracing.configure("intake", exporter=exporter)
    try:
        vouched = {internal_token.HEADER: GATEWAY.sign(OPERATOR, "intake"), "traceparent": CALLER}
        assert (
            client.get("/api/v1/things/t-1", headers={**vouched, "X-Correlation-Id": "c-1"}).status_code
            == 200
        )
        assert client.get("/api/v1/things/t-2", headers={"traceparent": CALLER}).status_code == 401
        tracing.flush()
    finally:
        tracing.shutdown()
    caller_trace, caller_span = ids(CALLER)
    by_path = {s.attributes["url.path"]: s for s in exporter.get_finished_spans() if s.attributes}
    from_gateway, from_anyone = by_path["/api/v1/things/t-1"], by_path["/api/v1/things/t-2"]
    assert (trace_of(from_gateway), parent_of(from_gateway)) == (caller_trace, caller_span)
    assert from_gateway.name == "GET /api/v1/things/{thing_id}"
    assert from_gateway.attributes is not None
    assert from_gateway.attributes[tracing.CORRELATION_ID] == "c-1"
    assert trace_of(from_anyone) != caller_trace
    assert parent_of(from_anyone) is None
    assert [format(link.context.span_id, "016x") for link in from_anyone.links] == [caller_span]


def test_probes_and_scrapes_are_not_traced(spans: InMemorySpanExporter) -> None:
    for path in ("/health", "/metrics"):
        with tracing.http_server_span("GET", path, {}, trust_parent=False) as span:
            assert not span.is_recording()
    assert finished(spans) == {}
