"""The event envelope: CloudEvents 1.0 in Kafka binary mode (ce_* headers, JSON value, key = subject)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
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
        return cls._assembled(
            {
                "id": raw["id"],
                "type": raw["type"],
                "source": raw["source"],
                "subject": raw["subject"],
                "time": datetime.fromisoformat(raw["time"]),
                "data": raw["data"],
                "correlation_id": raw.get("correlation_id"),
                "causation_id": raw.get("causation_id"),
                "actor": raw.get("actor"),
                "traceparent": raw.get("traceparent"),
                "tracestate": raw.get("tracestate"),
            }
        )

    @classmethod
    def _assembled(cls, fields: dict[str, Any]) -> Envelope:
        """The envelope of `fields` (every field, by name), as `cls(**fields)` makes it, at 2.5× its speed: a frozen
        dataclass's `__init__` sets each of the eleven fields through `object.__setattr__`, ~1.3 µs of every event a
        consumer or a rebuild reads (issue 13). The class has no `__post_init__` and no slots, so filling its
        `__dict__` is all `__init__` does."""
        envelope = object.__new__(cls)
        envelope.__dict__.update(fields)
        return envelope

    # -- wire form --

    def to_kafka(self) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        """Key, value and headers of the Kafka record in CloudEvents binary content mode, written directly as the
        cloudevents library writes them (the same headers in the same order, the same bytes): the library's event
        checks every attribute in three passes, ~30 µs of each event, which is made twice (`outbox.encode` at
        enqueue, the relay as it publishes; issue 13). An envelope the library would refuse (an attribute empty or
        not text, a naive time, data not an object) is left to it, so it is refused with its error."""
        time = self.time
        if not (
            _nonempty_text(self.id, self.type, self.source, self.subject)
            and isinstance(time, datetime)
            and time.tzinfo
            and isinstance(self.data, dict)
        ):
            return self._to_kafka_by_library()
        headers = [
            ("ce_id", self.id.encode()),
            ("ce_type", self.type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_subject", self.subject.encode()),
            ("ce_time", _rfc3339(time).encode()),
            (_CONTENT_TYPE, _JSON),
        ]
        headers += [(_CE_PREFIX + name, str(value).encode()) for name, value in self._extensions()]
        headers.append(("ce_specversion", b"1.0"))
        return self.subject.encode(), json.dumps(self.data, default=_cloudevents_json).encode(), headers

    def _extensions(self) -> list[tuple[str, str]]:
        """The extension attributes a record carries, in the order written: those with a value, the trace state
        only with its parent."""
        return [
            (name, value)
            for name, value in (
                (CORRELATION_EXT, self.correlation_id),
                (CAUSATION_EXT, self.causation_id),
                (ACTOR_EXT, self.actor),
                (TRACEPARENT_EXT, self.traceparent),
                (TRACESTATE_EXT, self.tracestate if self.traceparent else None),
            )
            if value
        ]

    def _to_kafka_by_library(self) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        attributes: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": "application/json",
            **dict(self._extensions()),
        }
        message = ce_kafka.to_binary_event(CloudEvent(attributes=attributes, data=self.data))
        headers = [(name, value) for name, value in message.headers.items()]
        value = message.value if isinstance(message.value, bytes) else json.dumps(self.data).encode()
        return self.subject.encode(), value, headers

    @classmethod
    def from_kafka(cls, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> Envelope:
        """The envelope of a record in binary mode. What this kernel writes (`to_kafka`) is read directly: the
        cloudevents library's reading (dateutil's parser, three passes of attribute validation, a regex per
        attribute) cost 7–11× the JSON parse itself (issue 13). Anything else is left to the library, so a record
        it refuses is still refused with its error."""
        attributes: dict[str, str] = {}
        content_type: str | None = None
        for name, raw in headers:
            if name[:3] == _CE_PREFIX:
                attributes[name[3:]] = raw.decode()
            elif name == _CONTENT_TYPE:
                content_type = raw.decode()
            elif name.lower()[:3] == _CE_PREFIX or name.lower() == _CONTENT_TYPE:
                # The library compares names case-insensitively; this kernel writes them in lower case.
                return cls._from_kafka_by_library(key, value, headers)
        time = _plain_time(attributes.get("time"))
        if time is None or not _plain_attributes(attributes) or not _is_json(content_type):
            return cls._from_kafka_by_library(key, value, headers)
        data = _json_object(value)
        return cls._assembled(
            {
                "id": attributes["id"],
                "type": attributes["type"],
                "source": attributes["source"],
                "subject": attributes.get("subject") or (key.decode() if key else ""),
                "time": time,
                "data": data,
                "correlation_id": attributes.get(CORRELATION_EXT),
                "causation_id": attributes.get(CAUSATION_EXT),
                "actor": attributes.get(ACTOR_EXT),
                "traceparent": attributes.get(TRACEPARENT_EXT),
                "tracestate": attributes.get(TRACESTATE_EXT),
            }
        )

    @classmethod
    def _from_kafka_by_library(
        cls, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> Envelope:
        event = ce_kafka.from_binary_event(
            ce_kafka.KafkaMessage(headers=dict(headers), key=key, value=value),
        )
        data = event.get_data()
        if isinstance(data, (bytes, str)):
            data = _json_object(data)
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


def kafka_type(headers: Iterable[tuple[str, bytes]]) -> str | None:
    """The event type of a record from its `ce_type` header, without reading the body; None when it has none (a
    record not in binary mode, which only `from_kafka` can tell about)."""
    for name, raw in headers:
        if name == _CE_TYPE or name.lower() == _CE_TYPE:
            return raw.decode(errors="replace")
    return None


_CE_PREFIX = "ce_"
_JSON = b"application/json"
_CE_TYPE = "ce_type"
_CONTENT_TYPE = "content-type"
_REQUIRED = ("id", "source", "type")
# The attributes of CloudEvents 1.0 and the extensions this kernel writes: the names read without the library.
_KNOWN = frozenset(
    {
        "specversion",
        *_REQUIRED,
        "subject",
        "time",
        CORRELATION_EXT,
        CAUSATION_EXT,
        ACTOR_EXT,
        TRACEPARENT_EXT,
        TRACESTATE_EXT,
    }
)


def _plain_attributes(attributes: dict[str, str]) -> bool:
    """CloudEvents 1.0 with its required attributes set, a subject that is not empty and no attribute the library
    would have to judge (dataschema, an extension of someone else's): what `to_kafka` writes."""
    return (
        attributes.get("specversion") == "1.0"
        and all(attributes.get(name) for name in _REQUIRED)
        and attributes.get("subject") != ""
        and attributes.keys() <= _KNOWN
    )


def _plain_time(raw: str | None) -> datetime | None:
    """The `time` attribute when it is the RFC 3339 form `to_kafka` writes (the library's when absent: now); None
    when the library has to read it (lower-case separators, more than six decimals, no offset)."""
    if raw is None:
        return clock.now()
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _json_object(body: bytes | str) -> dict[str, Any]:
    try:
        data = json.loads(body.decode() if isinstance(body, bytes) else body)
    except ValueError as exc:  # UnicodeDecodeError too
        raise ValueError(f"event data must be a JSON object: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("event data must be a JSON object")
    return data


def _is_json(content_type: str | None) -> bool:
    # The library reads the body as JSON for these (`JSONFormat.JSON_CONTENT_TYPE_PATTERN`, absent = JSON).
    return content_type is None or content_type == "application/json" or bool(_JSON_TYPES.match(content_type))


_JSON_TYPES = re.compile(r"^(application|text)/([a-zA-Z0-9\-\.]+\+)?json(;.*)?$")


def _nonempty_text(*values: object) -> bool:
    return all(isinstance(v, str) and v for v in values)


def _rfc3339(moment: datetime) -> str:
    """A time as the cloudevents library writes it: ISO 8601, UTC as `Z`."""
    stamp = moment.isoformat()
    return stamp[:-6] + "Z" if stamp.endswith("+00:00") else stamp


def _cloudevents_json(value: object) -> str:
    """What the cloudevents library's JSON encoder makes of a value JSON has no form for: a datetime as `_rfc3339`;
    anything else refused with the standard encoder's error."""
    if isinstance(value, datetime):
        return _rfc3339(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
