"""One submission through the gateway is one connected trace: the gateway's request, intake's, the relay's sends to
Kafka and the processing in the registry, notification and fee services, read back from the JSON-lines span files
every service process writes under the stack's run directory (btkernel.tracing, ADR 0028)."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import pytest
from services_flow import Office, ok

from btdeploy.e2e import Gateway, eventually
from btdeploy.samples import birth_application
from btdeploy.stack import SERVICE_NAMES, Stack
from btkernel import tracing

pytestmark = pytest.mark.e2e

Span = dict[str, Any]
# Who must appear in the submission's trace, and which of them reached it through Kafka.
THROUGH_KAFKA = ("registry", "notification", "fee")


def read_spans(stack: Stack) -> list[Span]:
    spans: list[Span] = []
    for name in SERVICE_NAMES:
        path = stack.trace_file(name)
        if path.exists():
            # A batch is written whole, but a read can meet the tail of a write in progress: skip a broken last line.
            for line in path.read_text().splitlines():
                try:
                    spans.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return spans


def the_submission(spans: list[Span], correlation_id: str) -> list[Span] | None:
    """The spans of the trace the gateway started for the submission, once every expected part is exported: the
    consumers' spans, and the registry's sends of the case's events (its relay gathers a busy interval's commits, so
    they may come a moment after the consumers' spans: ADR 0043)."""
    roots = [
        s
        for s in spans
        if s["service"] == "gateway"
        and s["kind"] == "SERVER"
        and s["attributes"].get(tracing.CORRELATION_ID) == correlation_id
    ]
    if not roots:
        return None
    trace = [s for s in spans if s["trace_id"] == roots[0]["trace_id"]]
    consumed_by = {s["service"] for s in trace if s["kind"] == "CONSUMER"}
    ids = {s["span_id"] for s in trace}
    connected = all(s["parent_span_id"] in ids for s in trace if s["parent_span_id"] is not None)
    by_id = {s["span_id"]: s for s in trace}
    registry_sent = any(
        s["kind"] == "PRODUCER" and by_id.get(s["parent_span_id"] or "", {}).get("service") == "registry"
        for s in trace
    )
    return trace if connected and consumed_by >= set(THROUGH_KAFKA) and registry_sent else None


async def test_one_submission_is_one_connected_trace_through_every_service(
    stack: Stack, gateway: Gateway
) -> None:
    people = Office()
    correlation_id = f"trace-{uuid.uuid4()}"
    # A caller's own trace context is not continued (it could pick our trace ids): only linked.
    callers = "00-11111111111111111111111111111111-2222222222222222-01"
    r = await gateway.as_(
        people.operator,
        "POST",
        "/api/v1/applications",
        json=birth_application(email=f"trace-{uuid.uuid4().hex[:8]}@example.kz"),
        headers={"X-Correlation-Id": correlation_id, "traceparent": callers},
    )
    ok(r, 201)

    async def complete() -> list[Span] | None:
        return the_submission(read_spans(stack), correlation_id)

    trace = await eventually(complete, timeout_s=60.0, what="the submission's spans from every service")

    (root,) = [s for s in trace if s["parent_span_id"] is None]
    assert (root["service"], root["kind"], root["name"]) == ("gateway", "SERVER", "POST /api/v1/applications")
    assert root["trace_id"] != "11111111111111111111111111111111"
    assert root["links"] == [{"trace_id": "1" * 32, "span_id": "2" * 16}]
    assert {s["service"] for s in trace} >= {"gateway", "intake", *THROUGH_KAFKA}
    by_id = {s["span_id"]: s for s in trace}
    # gateway SERVER → gateway CLIENT → intake SERVER: the hop over HTTP.
    (intake_request,) = [s for s in trace if s["service"] == "intake" and s["kind"] == "SERVER"]
    client = by_id[intake_request["parent_span_id"]]
    assert (client["service"], client["kind"], client["parent_span_id"]) == (
        "gateway",
        "CLIENT",
        root["span_id"],
    )
    assert intake_request["attributes"]["http.route"] == "/api/v1/applications"
    # Every processing span hangs under a send span of the topic it read: the hops over Kafka.
    for consumed in (s for s in trace if s["kind"] == "CONSUMER"):
        sent = by_id[consumed["parent_span_id"]]
        assert sent["kind"] == "PRODUCER", consumed
        assert (
            sent["attributes"]["messaging.destination.name"]
            == consumed["attributes"]["messaging.destination.name"]
        )
        assert sent["attributes"]["cloudevents.event_id"] == consumed["attributes"]["cloudevents.event_id"]
        assert consumed["attributes"]["messaging.system"] == "kafka"
    # intake's events were sent from its request; the registry's case from its processing of them.
    first_sends = [
        s for s in trace if s["kind"] == "PRODUCER" and s["parent_span_id"] == intake_request["span_id"]
    ]
    assert {s["attributes"]["messaging.destination.name"] for s in first_sends} == {"civreg.application"}
    consumers = Counter(s["service"] for s in trace if s["kind"] == "CONSUMER")
    assert all(consumers[name] >= 1 for name in THROUGH_KAFKA), consumers
    registry_sends = [
        s for s in trace if s["kind"] == "PRODUCER" and by_id[s["parent_span_id"]]["service"] == "registry"
    ]
    assert registry_sends, "the registry's events continue the trace"
