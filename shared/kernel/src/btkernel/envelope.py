"""The event envelope: CloudEvents 1.0 in Kafka binary mode (ce_* headers, JSON value, key = subject)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent

from btkernel import clock

CORRELATION_EXT = "correlationid"
CAUSATION_EXT = "causationid"
ACTOR_EXT = "actor"


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
        )

    # -- storage form (the outbox keeps envelopes as JSON until the relay publishes them) --

    def to_json(self) -> dict[str, Any]:
        return {
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
        )
