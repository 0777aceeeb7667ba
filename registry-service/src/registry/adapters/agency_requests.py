"""Sends each `CaseSentToAgency` to its agency's request topic as a signed CloudEvent (structured mode, key =
application id), from the consumer group `registry.agency-requests` on civreg.case (ADR 0040).

At least once: the event is sent before the consumer records it as processed, so a crash between the two sends it
again — with the same id (`agency_services.request_event`), which the agency de-duplicates as it does every
partner event (ADR 0025). A broker that will not take it is a failure of the surroundings: the consumer starts
over from its offset rather than dead-letter a request the agency must get."""

from __future__ import annotations

import json

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from btkernel import signing
from btkernel.envelope import Envelope
from btkernel.kafka_client import KafkaOptions
from civreg.events import parse
from civreg.events.agency import CaseSentToAgency
from civreg.partners import by_agency
from civreg.partners.agency_services import request_event, request_schema_id, requests_topic

CONTENT_TYPE = "application/cloudevents+json"


class AgencyRequestSender:
    def __init__(self, kafka: KafkaOptions, key: Ed25519PrivateKey | None) -> None:
        self.kafka = kafka
        self.key = key
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Connect the producer. Called on the first request rather than at the service's start: a broker that is
        not there yet must not keep the registry from starting (its consumers wait for it the same way)."""
        producer = AIOKafkaProducer(**self.kafka, enable_idempotence=True, acks="all")
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def _started(self) -> AIOKafkaProducer:
        try:
            await self.start()
        except KafkaError as exc:
            raise ConnectionError(f"agency requests are not being sent: {exc}") from exc
        assert self._producer is not None
        return self._producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(self, envelope: Envelope) -> None:
        event = parse(envelope.type, envelope.data)
        assert isinstance(event, CaseSentToAgency)
        if by_agency(event.agency) is None:
            raise LookupError(f"no contract for agency {event.agency}")
        if self.key is None:
            # Without the platform's key nothing may go out unsigned: wait (retried as unavailable).
            raise ConnectionError("agency requests are not being sent: no signing key")
        producer = self._producer or await self._started()
        unsigned = request_event(
            event.agency,
            event.request,
            cause_id=envelope.id,
            time=event.sent_at,
            schema_id=request_schema_id(event.agency),
        )
        signed = signing.sign(unsigned, self.key)
        value = json.dumps(signed, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            await producer.send_and_wait(
                requests_topic(event.agency),
                value=value,
                key=event.application_id.encode(),
                headers=[("content-type", CONTENT_TYPE.encode())],
            )
        except KafkaError as exc:
            raise ConnectionError(f"request to {event.agency} not sent: {exc!r}") from exc
