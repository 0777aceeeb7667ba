"""The event envelope: CloudEvents 1.0 in Kafka binary mode (ce_* headers, JSON value, key = subject)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent

from btkernel import clock, tracing

CORRELATION_EXT = "correlationid"
CAUSATION_EXT = "causationid"
ACTOR_EXT = "actor"
# The CloudEvents Distributed Tracing extension: the W3C trace context of the span that wrote the event (ADR 0028).
TRACEPARENT_EXT = tracing.TRACEPARENT
TRACESTATE_EXT = tracing.TRACESTATE


@dataclass(frozen=True)
class Envelope:
    """One event as it travels: identity, type, aggregate (subject), time, trace ids and the JSON data."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    data: dict[str, Any]
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None

    @classmethod
    def new(
        cls,
        *,
        type: str,
        source: str,
        subject: str,
        data: dict[str, Any],
        correlation_id: str | None,
        causation_id: str | None,
        actor: str | None = None,
        time: datetime | None = None,
    ) -> Envelope:
        # The trace context of the span this event is written in (a request's, a consumer's): what caused it.
        trace = tracing.carrier()
        return cls(
            id=str(uuid.uuid4()),
            type=type,
            source=source,
            subject=subject,
            time=time or clock.now(),  # the service's clock, which tests can move (ADR 0008)
            data=data,
            correlation_id=correlation_id,
            causation_id=causation_id,
            actor=actor,
            traceparent=trace.get(TRACEPARENT_EXT),
            tracestate=trace.get(TRACESTATE_EXT),
        )

    # -- storage form (the outbox keeps envelopes as JSON until the relay publishes them) --

    def to_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "data": self.data,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "actor": self.actor,
        }
        # Only when there is one: rows of an untraced process keep the form they always had.
        if self.traceparent:
            stored["traceparent"] = self.traceparent
            if self.tracestate:
                stored["tracestate"] = self.tracestate
        return stored

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Envelope:
        return cls(
            id=raw["id"],
            type=raw["type"],
            source=raw["source"],
            subject=raw["subject"],
            time=datetime.fromisoformat(raw["time"]),
            data=raw["data"],
            correlation_id=raw.get("correlation_id"),
            causation_id=raw.get("causation_id"),
            actor=raw.get("actor"),
            traceparent=raw.get("traceparent"),
            tracestate=raw.get("tracestate"),
        )

    # -- wire form --

    def to_kafka(self) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        """Key, value and headers of the Kafka record in CloudEvents binary content mode."""
        attributes: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": "application/json",
        }
        if self.correlation_id:
            attributes[CORRELATION_EXT] = self.correlation_id
        if self.causation_id:
            attributes[CAUSATION_EXT] = self.causation_id
        if self.actor:
            attributes[ACTOR_EXT] = self.actor
        if self.traceparent:
            attributes[TRACEPARENT_EXT] = self.traceparent
            if self.tracestate:
                attributes[TRACESTATE_EXT] = self.tracestate
        message = ce_kafka.to_binary_event(CloudEvent(attributes=attributes, data=self.data))
        headers = [(name, value) for name, value in message.headers.items()]
        value = message.value if isinstance(message.value, bytes) else json.dumps(self.data).encode()
        return self.subject.encode(), value, headers

    @classmethod
    def from_kafka(cls, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> Envelope:
        event = ce_kafka.from_binary_event(
            ce_kafka.KafkaMessage(headers=dict(headers), key=key, value=value),
        )
        data = event.get_data()
        if isinstance(data, (bytes, str)):
            data = json.loads(data)
        if not isinstance(data, dict):
            raise ValueError("event data must be a JSON object")
        time = event.get_time() or clock.now()
        return cls(
            id=event.get_id(),
            type=event.get_type(),
            source=event.get_source(),
            subject=event.get_subject() or (key.decode() if key else ""),
            time=time,
            data=data,
            correlation_id=event.get_extension(CORRELATION_EXT),
            causation_id=event.get_extension(CAUSATION_EXT),
            actor=event.get_extension(ACTOR_EXT),
            traceparent=event.get_extension(TRACEPARENT_EXT),
            tracestate=event.get_extension(TRACESTATE_EXT),
        )
