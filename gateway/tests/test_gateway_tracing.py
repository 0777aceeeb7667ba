"""The gateway starts each request's trace (a caller's `traceparent` is only linked, never continued) and hands
the service the context of its client span (btkernel.tracing, ADR 0028)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from gateway_fakes import FakeUpstreams
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from btkernel import tracing

Auth = Callable[[str], dict[str, str]]
CALLER_TRACE, CALLER_SPAN = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"


@pytest.fixture
def spans(app: FastAPI) -> Iterator[InMemorySpanExporter]:
    # After the app: building it configures tracing from its settings (off in these tests).
    exporter = InMemorySpanExporter()
    tracing.configure("gateway", exporter=exporter)
    yield exporter
    tracing.shutdown()


async def test_the_service_gets_the_gateway_client_span_not_the_callers_context(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth, spans: InMemorySpanExporter
) -> None:
    caller = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    response = await client.get(
        "/api/v1/cases/c-1", headers={**auth("head1"), "traceparent": caller, "X-Correlation-Id": "corr-9"}
    )
    assert response.status_code == 200

    tracing.flush()
    by_kind = {span.kind.name: span for span in spans.get_finished_spans()}
    server, client_span = by_kind["SERVER"], by_kind["CLIENT"]
    assert server.context is not None
    assert client_span.context is not None
    sent = upstreams.last("registry").headers["traceparent"]
    _version, trace_id, parent_id, _flags = sent.split("-")
    assert trace_id == format(server.context.trace_id, "032x") != CALLER_TRACE
    assert parent_id == format(client_span.context.span_id, "016x")
    assert server.parent is None
    assert [format(link.context.span_id, "016x") for link in server.links] == [CALLER_SPAN]
    assert client_span.parent is not None
    assert client_span.parent.span_id == server.context.span_id
    assert server.name == "GET /api/v1/cases/{case_id}"
    assert client_span.name == "GET /api/v1/cases/{case_id}"
    assert server.attributes is not None
    assert server.attributes[tracing.CORRELATION_ID] == "corr-9"
    assert client_span.attributes is not None
    assert client_span.attributes["peer.service"] == "registry"
    assert client_span.attributes["http.response.status_code"] == 200


async def test_off_no_traceparent_is_forwarded(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    caller = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    await client.get("/api/v1/cases/c-1", headers={**auth("head1"), "traceparent": caller})
    assert "traceparent" not in upstreams.last("registry").headers
