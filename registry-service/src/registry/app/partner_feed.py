"""The partner publisher's use case: one feed per agency contract turns the registry's record events into that
agency's signed events, exactly its fields, exactly once, and re-publishes its topic from the beginning when the
contract changes or an operator asks (issue 9 "Partner contracts"; docs/adr/0026-partner-publisher.md).

The feed is written against two ports, so its decisions are tested without Kafka or PostgreSQL:
* `PartnerLog`: the Kafka side of one feed — the next batch of civreg.record, publishing a batch's events together
  with its input offsets in ONE transaction, truncating the agency topic, rewinding the input to its beginning;
* `FeedStore`: the feed's row in the registry database (digest last published with, pending re-publication
  request) and the record read model (kind and office of the record an amendment or annulment names).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import Counter, Gauge

from btkernel import logging as btlog
from btkernel import signing
from btkernel.envelope import Envelope
from btkernel.loops import Loop
from civreg.events.record import RecordAmended, RecordAnnulled
from civreg.partners import Contract, RecordRef, project

log = btlog.get(__name__)

# Structured content mode: the whole CloudEvent (signature included) is the Kafka value (CloudEvents Kafka binding
# §3.2), so an agency can keep and re-verify it as it is.
CONTENT_TYPE = "application/cloudevents+json"
# Internal events that name only their record (the feed looks the record up for kind and office), and the partner
# event each becomes.
NEEDS_RECORD = {RecordAmended.TYPE: "record-amended.v1", RecordAnnulled.TYPE: "record-annulled.v1"}
# Errors that say the event itself is malformed (missing or mistyped fields, a value JCS cannot encode).
BAD_EVENT_ERRORS: tuple[type[Exception], ...] = (KeyError, ValueError, TypeError, AttributeError)

PUBLISHED = Counter("bt_partner_events_published_total", "Partner events published", ["agency"])
SKIPPED = Counter(
    "bt_partner_events_skipped_total",
    "Record events a partner feed skipped because the event itself could not be projected",
    ["agency", "reason"],
)
REPUBLISHED = Counter("bt_partner_republications_total", "Re-publications of a partner topic", ["agency"])
LAG = Gauge("bt_partner_feed_lag_messages", "Record events not yet read by a partner feed", ["agency"])


def group_id(agency: str) -> str:
    """The consumer group whose offsets on civreg.record the feed commits in its transactions."""
    return f"registry.partners.{agency}"


def transactional_id(agency: str) -> str:
    """One per agency: a restarted (or second) publisher of the agency fences the old one's open transaction."""
    return f"registry.partners.{agency}"


# -- what the ports carry -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputRecord:
    """One Kafka record of civreg.record."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes]] = ()


@dataclass(frozen=True)
class Batch:
    """Records read since the last commit, and the input position (per partition) once they are published."""

    records: Sequence[InputRecord]
    next_offsets: Mapping[int, int]
    lag: int | None = None

    @property
    def empty(self) -> bool:
        return not self.next_offsets


@dataclass(frozen=True)
class OutputRecord:
    """One signed partner event as the agency topic gets it: key = record id (order per record), JSON value."""

    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    event_id: str


@dataclass(frozen=True)
class FeedState:
    agency: str
    published_digest: str | None
    republish_requested_at: dt.datetime | None = None
    republish_requested_by: str | None = None


class PartnerLog(Protocol):
    async def next_batch(self) -> Batch: ...

    async def publish(self, outputs: Sequence[OutputRecord], batch: Batch) -> None:
        """All of `outputs` and the batch's input offsets in one transaction: all visible, or none."""

    async def truncate(self) -> None:
        """Delete every record of the agency topic (up to its end offsets)."""

    async def rewind(self) -> None:
        """Seek the input to its beginning and commit those offsets (in a transaction of their own)."""


class FeedStore(Protocol):
    async def state(self, agency: str) -> FeedState | None: ...

    async def request_republish(self, agency: str, by: str) -> None: ...

    async def republished(self, agency: str, digest: str, request: dt.datetime | None) -> None:
        """Record the digest now published with; clear the request `request` (not a newer one)."""

    async def published(self, agency: str, events: int, skipped: int) -> None: ...

    async def record_refs(self, record_ids: Sequence[str]) -> dict[str, RecordRef]: ...


# -- decisions ------------------------------------------------------------------------------------------------


def republish_reason(contract: Contract, state: FeedState | None) -> str | None:
    """Why the agency topic must be published again from the beginning; None when it need not.

    No row: the topic's history is unknown to this database (first start, or a restored database), so it is
    rebuilt rather than trusted."""
    if state is None or state.published_digest is None:
        return "first publication"
    if state.republish_requested_at is not None:
        return f"requested by {state.republish_requested_by or 'an operator'}"
    digest = contract.digest()
    if state.published_digest != digest:
        return f"contract changed ({state.published_digest} → {digest})"
    return None


@dataclass
class Translation:
    outputs: list[OutputRecord] = field(default_factory=list)
    skipped: int = 0


def encode(event: Mapping[str, Any], record_id: str) -> OutputRecord:
    value = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    return OutputRecord(
        key=record_id.encode(),
        value=value,
        headers=(("content-type", CONTENT_TYPE.encode()),),
        event_id=str(event["id"]),
    )


async def translate(
    contract: Contract, records: Sequence[InputRecord], store: FeedStore, key: Ed25519PrivateKey
) -> Translation:
    """The agency's signed events for a batch of record events, in input order. An event that cannot be read or
    projected because of its own content is logged at ERROR, counted, and skipped: it must not stall the feed.
    Failures of the surroundings (the database) raise: the batch is then redone."""
    out = Translation()
    read: list[tuple[InputRecord, Envelope]] = []
    for record in records:
        try:
            read.append((record, Envelope.from_kafka(record.key, record.value, list(record.headers))))
        except Exception as exc:  # the bytes are not a CloudEvent of ours: nothing else can be done with them
            _skip(contract, record, "unreadable", exc)
            out.skipped += 1
    wanted = sorted(
        {
            str(env.data.get("record_id"))
            for _, env in read
            if env.type in NEEDS_RECORD and env.data.get("record_id")
        }
    )
    refs = await store.record_refs(wanted) if wanted else {}
    for record, env in read:
        try:
            ref: RecordRef | None = None
            if env.type in NEEDS_RECORD:
                ref = refs.get(str(env.data["record_id"]))
                if ref is None and contract.grant_for(NEEDS_RECORD[env.type]) is not None:
                    # The read model is written in the transaction that wrote the event (ADR 0003): a record it
                    # does not know is a broken event, not one that is early.
                    raise KeyError(f"record {env.data['record_id']} is not in the record read model")
            event = project(contract, env, ref)
            if event is None:
                continue
            out.outputs.append(encode(signing.sign(event.attributes, key), event.subject))
        except BAD_EVENT_ERRORS as exc:
            _skip(contract, record, "unprojectable", exc, event_id=env.id, event_type=env.type)
            out.skipped += 1
    return out


def _skip(contract: Contract, record: InputRecord, reason: str, exc: BaseException, **fields: Any) -> None:
    SKIPPED.labels(contract.agency, reason).inc()
    log.error(
        "partner_event_skipped",
        agency=contract.agency,
        reason=reason,
        partition=record.partition,
        offset=record.offset,
        error=repr(exc),
        **fields,
    )


# -- one feed -------------------------------------------------------------------------------------------------


class PartnerFeed:
    """One agency's feed on an open log: `prepare()` once (re-publishing when due), then `step()` for ever."""

    def __init__(
        self,
        contract: Contract,
        store: FeedStore,
        partner_log: PartnerLog,
        key: Ed25519PrivateKey,
        *,
        request_poll_s: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.contract = contract
        self.store = store
        self.log = partner_log
        self.key = key
        self.request_poll_s = request_poll_s
        self._monotonic = monotonic
        self._polled_at: float | None = None
        self.published = 0
        self.skipped = 0

    @property
    def agency(self) -> str:
        return self.contract.agency

    async def prepare(self) -> None:
        await self._republish_if_due()

    async def step(self) -> int:
        """One batch: translate, publish with its offsets in one transaction. Returns the events published."""
        if self._polled_at is None or self._monotonic() - self._polled_at >= self.request_poll_s:
            # An operator's request is seen within `request_poll_s` (+ one batch).
            await self._republish_if_due()
        batch = await self.log.next_batch()
        if batch.lag is not None:
            LAG.labels(self.agency).set(batch.lag)
        if batch.empty:
            return 0
        translation = await translate(self.contract, batch.records, self.store, self.key)
        await self.log.publish(translation.outputs, batch)
        self.published += len(translation.outputs)
        self.skipped += translation.skipped
        PUBLISHED.labels(self.agency).inc(len(translation.outputs))
        if translation.outputs or translation.skipped:
            # After the commit, outside it: a crash here only loses a line of `status`, never an event.
            await self.store.published(self.agency, len(translation.outputs), translation.skipped)
        return len(translation.outputs)

    async def _republish_if_due(self) -> None:
        self._polled_at = self._monotonic()
        state = await self.store.state(self.agency)
        reason = republish_reason(self.contract, state)
        if reason is None:
            return
        log.info("partner_republication_started", agency=self.agency, reason=reason)
        # Order matters for a crash in between: the request (or the stale digest) stays in the database until
        # the topic is empty and the input offsets are back at the beginning, so a restart redoes all of it.
        await self.log.truncate()
        await self.log.rewind()
        await self.store.republished(
            self.agency, self.contract.digest(), state.republish_requested_at if state else None
        )
        REPUBLISHED.labels(self.agency).inc()
        log.info("partner_republication_rewound", agency=self.agency, digest=self.contract.digest())


# -- all feeds of the process ---------------------------------------------------------------------------------

OpenLog = Callable[[Contract], AbstractAsyncContextManager[PartnerLog]]
Leadership = Callable[[str], AbstractAsyncContextManager[None]]


@dataclass
class FeedStatus:
    running: bool = False
    failures: int = 0
    published: int = 0
    skipped: int = 0
    last_error: str | None = None


class PartnerPublisher:
    """One background loop per contract. Each loop first becomes the feed's only publisher (`leadership`, so that
    two registry replicas do not fence each other's transactions), opens its log, prepares and steps until stopped;
    any failure restarts it from the committed offsets (btkernel.loops)."""

    def __init__(
        self,
        contracts: Sequence[Contract],
        *,
        store: FeedStore,
        open_log: OpenLog,
        leadership: Leadership,
        key: Ed25519PrivateKey,
        request_poll_s: float = 2.0,
    ) -> None:
        self.contracts = list(contracts)
        self.store = store
        self.open_log = open_log
        self.leadership = leadership
        self.key = key
        self.request_poll_s = request_poll_s
        self.status: dict[str, FeedStatus] = {c.agency: FeedStatus() for c in self.contracts}
        self.loops = [
            Loop(
                f"partner-feed-{c.agency}",
                self._body(c),
                error_event="partner_feed_error",
                fields={"agency": c.agency},
            )
            for c in self.contracts
        ]

    def start(self) -> None:
        for loop in self.loops:
            loop.start()

    async def stop(self) -> None:
        for loop in self.loops:
            await loop.stop()

    def _body(self, contract: Contract) -> Callable[[], Any]:
        status = self.status[contract.agency]

        async def body() -> None:
            loop = next(lp for lp in self.loops if lp.name == f"partner-feed-{contract.agency}")
            try:
                async with self.leadership(contract.agency), self.open_log(contract) as partner_log:
                    feed = PartnerFeed(
                        contract, self.store, partner_log, self.key, request_poll_s=self.request_poll_s
                    )
                    await feed.prepare()
                    status.running, status.last_error = True, None
                    loop.backoff.reset()
                    while not loop.stopping:
                        await feed.step()
                        status.published, status.skipped = (
                            status.published + feed.published,
                            status.skipped + feed.skipped,
                        )
                        feed.published = feed.skipped = 0
            except Exception as exc:
                status.failures += 1
                status.last_error = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                status.running = False

        return body

    def problems(self) -> list[str]:
        """What /health reports as degraded: feeds that keep failing, events skipped since this process started."""
        out = []
        for agency, status in self.status.items():
            if not status.running and status.failures:
                out.append(
                    f"{agency}: not publishing ({status.failures} failure(s); last: {status.last_error})"
                )
            if status.skipped:
                out.append(
                    f"{agency}: {status.skipped} record event(s) skipped as unprojectable since start"
                    " (ERROR partner_event_skipped in the log)"
                )
        return out
