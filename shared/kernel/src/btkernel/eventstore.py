"""The event store on PostgreSQL: append-only streams with optimistic concurrency, state rebuilt by folding.

`append` writes the events and their outbox rows in the caller's transaction, so a state change and the events
announcing it commit together or not at all. `PgEventStore` is the repository of every event-sourced aggregate
(`btkernel.aggregate.Aggregate`): `load_aggregate(Case, id)`, `save(case, ctx, source)`; a unit of work
(`btkernel.unit_of_work`) hands one out bound to its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import asyncpg

from btkernel import aggregate, db, outbox
from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from btkernel.errors import ConcurrencyConflict as ConcurrencyConflict
from btkernel.events.base import Event, parse
from btkernel.events.upcast import upcast
from btkernel.history import chain

A = TypeVar("A", bound=aggregate.Aggregate)


@dataclass(frozen=True)
class StoredEvent:
    stream_id: str
    version: int
    event_id: str
    type: str
    data: dict[str, Any]
    recorded_at: dt.datetime
    correlation_id: str | None
    causation_id: str | None
    actor: str | None

    def event(self) -> Event:
        return parse(self.type, self.data)

    def history_entry(self) -> dict[str, Any]:
        """What a timeline or history shows of one event: its place, type, time, who and why, and the data."""
        return {
            "version": self.version,
            "type": self.type,
            "at": self.recorded_at,
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "data": self.data,
        }


def envelope_for(event: Event, *, stream_id: str, ctx: RequestContext, source: str) -> Envelope:
    """The CloudEvents envelope an appended event travels in (also used by the in-memory store of unit tests)."""
    return Envelope.new(
        type=event.TYPE,
        source=source,
        subject=stream_id,
        data=event.to_data(),
        correlation_id=ctx.correlation_id,
        causation_id=ctx.causation_id,
        actor=ctx.actor.id if ctx.actor else None,
    )


def concurrency_conflict(stream_type: str, stream_id: str) -> ConcurrencyConflict:
    return ConcurrencyConflict(
        f"{stream_type} {stream_id} was changed by someone else at the same time; reload and try again",
        code="concurrent_change",
    )


_INSERT_EVENTS = (
    "INSERT INTO events (stream_id, version, stream_type, event_id, event_type, data, correlation_id,"
    " causation_id, actor, recorded_at, prev_hash, hash)"
    " SELECT $1, v, $2, i, t, d, c, k, $3, r, p, h FROM unnest($4::int[], $5::uuid[], $6::text[], $7::jsonb[],"
    " $8::text[], $9::text[], $10::timestamptz[], $11::bytea[], $12::bytea[]) AS u(v, i, t, d, c, k, r, p, h)"
)


async def append(
    conn: asyncpg.Connection,
    *,
    stream_id: str,
    stream_type: str,
    expected_version: int,
    events: Sequence[Event],
    ctx: RequestContext,
    source: str,
    later: db.Later | None = None,
) -> list[Envelope]:
    """Append `events` after `expected_version` and queue them for publication; raise on a concurrent append.

    The events and their outbox rows are one write (one round trip, `db.execute_together`). With `later`, a new
    stream's write waits for the commit there (`db.Later`), so it joins the transaction's other writes."""
    if not conn.is_in_transaction():
        raise RuntimeError("append must run inside the caller's transaction")
    envelopes: list[Envelope] = []
    actor = ctx.actor.id if ctx.actor else None
    # Each event chained to the one before it in its stream (ADR 0030); a concurrent append read the same link
    # and fails on the primary key below, as before.
    prev_hash: bytes | None = (
        await conn.fetchval(
            "SELECT hash FROM events WHERE stream_id = $1 AND version = $2", stream_id, expected_version
        )
        if expected_version > 0
        else None
    )
    links: list[bytes | None] = []
    digests: list[bytes] = []
    for offset, event in enumerate(events, start=1):
        env = envelope_for(event, stream_id=stream_id, ctx=ctx, source=source)
        digest = chain.event_hash(
            stream_id=stream_id,
            version=expected_version + offset,
            stream_type=stream_type,
            event_id=str(env.id),
            type=env.type,
            data=chain.as_json(env.data),
            actor=actor,
            correlation_id=env.correlation_id,
            causation_id=env.causation_id,
            recorded_at=env.time,
            prev_hash=prev_hash,
        )
        links.append(prev_hash)
        digests.append(digest)
        prev_hash = digest
        envelopes.append(env)
    if not envelopes:
        return envelopes
    writes = [
        (
            _INSERT_EVENTS,
            (
                stream_id,
                stream_type,
                actor,
                list(range(expected_version + 1, expected_version + 1 + len(envelopes))),
                [e.id for e in envelopes],
                [e.type for e in envelopes],
                [e.data for e in envelopes],
                [e.correlation_id for e in envelopes],
                [e.causation_id for e in envelopes],
                [e.time for e in envelopes],
                links,
                digests,
            ),
        ),
        outbox.enqueue_write([(event.TOPIC, env) for event, env in zip(events, envelopes, strict=True)]),
    ]
    if later is not None and expected_version == 0:
        # A new stream: nothing in this transaction reads it back before the commit; a concurrent append to
        # the same id fails there, on the primary key, as below.
        later.writes.extend(writes)
        later.notify(outbox.NOTIFY_CHANNEL)
        return envelopes
    try:
        await db.execute_together(conn, writes, [outbox.NOTIFY_CHANNEL])
    except asyncpg.UniqueViolationError as exc:
        if getattr(exc, "table_name", None) == "events":
            raise concurrency_conflict(stream_type, stream_id) from exc
        raise
    return envelopes


@dataclass(frozen=True)
class Kept:
    """An event to keep as it is: its id, time and metadata were decided by its writer (an envelope already
    queued, a read audited), not minted here."""

    event_id: str
    type: str
    data: Any
    recorded_at: dt.datetime
    actor: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None

    @classmethod
    def of(cls, env: Envelope) -> Kept:
        return cls(str(env.id), env.type, env.data, env.time, env.actor, env.correlation_id, env.causation_id)


_INSERT_KEPT = (
    "INSERT INTO events (stream_id, version, stream_type, event_id, event_type, data, correlation_id,"
    " causation_id, actor, recorded_at, prev_hash, hash)"
    " SELECT $1, v, $2, i, t, d, c, k, a, r, p, h FROM unnest($3::int[], $4::uuid[], $5::text[], $6::jsonb[],"
    " $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::bytea[], $12::bytea[])"
    " AS u(v, i, t, d, c, k, a, r, p, h)"
)


async def keep(
    conn: asyncpg.Connection | asyncpg.Pool | db.Later,
    *,
    stream_id: str,
    stream_type: str,
    events: Sequence[Kept],
    new_stream: bool = False,
) -> None:
    """Append `events` as they are, chained (ADR 0030) and journaled by the table's trigger, and NOT queued:
    what is never published (audited reads, a decision's facts, the delivery log's changes) or was queued by its
    writer with a subject other than its stream (a deadline's warning, a fee decision). `append` mints and queues.
    After the stream's head as it stands: the caller holds what serialises the stream's writers (a row lock), or
    says `new_stream` (version 1 on: a second writer fails on the primary key, and a pool will do). A new stream
    may be written through a `db.Later`, with the transaction's other writes that need no answer (issue 13)."""
    if not events:
        return
    version, prev_hash = 0, None
    if not new_stream:
        if isinstance(conn, db.Later):
            raise TypeError("the head of an existing stream is read first: keep() needs the connection")
        head = await conn.fetchrow(
            "SELECT version, hash FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1", stream_id
        )
        if head is not None:
            version, prev_hash = head["version"], head["hash"]
    columns: list[list[Any]] = [[] for _ in range(10)]
    for offset, event in enumerate(events, start=1):
        data = chain.as_json(event.data)
        digest = chain.event_hash(
            stream_id=stream_id,
            version=version + offset,
            stream_type=stream_type,
            event_id=event.event_id,
            type=event.type,
            data=data,
            actor=event.actor,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            recorded_at=event.recorded_at,
            prev_hash=prev_hash,
        )
        row = (
            version + offset,
            event.event_id,
            event.type,
            data,
            event.correlation_id,
            event.causation_id,
            event.actor,
            event.recorded_at,
            prev_hash,
            digest,
        )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
        prev_hash = digest
    await conn.execute(_INSERT_KEPT, stream_id, stream_type, *columns)


async def load(conn: asyncpg.Connection, stream_id: str) -> list[StoredEvent]:
    rows = await conn.fetch(
        "SELECT stream_id, version, event_id, event_type, data, recorded_at, correlation_id, causation_id, actor"
        " FROM events WHERE stream_id = $1 ORDER BY version",
        stream_id,
    )
    return [stored_event(r) for r in rows]


def stored_event(r: Any) -> StoredEvent:
    """One row of `events` as its readers see it: an older event type upcast to its newest (ADR 0027)."""
    type_name, data = upcast(r["event_type"], r["data"])
    return StoredEvent(
        r["stream_id"],
        r["version"],
        str(r["event_id"]),
        type_name,
        data,
        r["recorded_at"],
        r["correlation_id"],
        r["causation_id"],
        r["actor"],
    )


class EventStore(Protocol):
    """What use cases need of an event store; `PgEventStore` on PostgreSQL, `btkernel.testing.InMemoryEventStore`
    in unit tests."""

    async def load(self, stream_id: str) -> list[StoredEvent]: ...

    async def append(
        self,
        *,
        stream_id: str,
        stream_type: str,
        expected_version: int,
        events: Sequence[Event],
        ctx: RequestContext,
        source: str,
    ) -> list[Envelope]: ...

    async def load_aggregate(self, cls: type[A], stream_id: str) -> A | None: ...

    async def save(self, agg: aggregate.Aggregate, ctx: RequestContext, source: str) -> list[Envelope]: ...


async def load_aggregate(store: EventStore, cls: type[A], stream_id: str) -> A | None:
    """`cls` folded from its stream, or None when the stream is empty (nothing by that id)."""
    stored = await store.load(stream_id)
    if not stored:
        return None
    return cls.fold(stream_id, [s.event() for s in stored])


async def save(
    store: EventStore, agg: aggregate.Aggregate, ctx: RequestContext, source: str
) -> list[Envelope]:
    """Append the aggregate's pending events where it was read (`ConcurrencyConflict` if someone appended since)."""
    if not agg.pending:
        return []
    envelopes = await store.append(
        stream_id=agg.id,
        stream_type=agg.STREAM_TYPE,
        expected_version=agg.expected_version,
        events=agg.pending,
        ctx=ctx,
        source=source,
    )
    agg.mark_saved()
    return envelopes


class PgEventStore:
    """The event store on one connection, inside the caller's (the unit of work's) transaction. With `later`
    (`db.Later`), new streams are written at the commit; whatever it kept is sent before this store reads or
    appends to an existing stream, so nothing here reads around it."""

    def __init__(self, conn: asyncpg.Connection, later: db.Later | None = None) -> None:
        self.conn = conn
        self.later = later

    async def load(self, stream_id: str) -> list[StoredEvent]:
        if self.later is not None:
            await self.later.flush()
        return await load(self.conn, stream_id)

    async def append(
        self,
        *,
        stream_id: str,
        stream_type: str,
        expected_version: int,
        events: Sequence[Event],
        ctx: RequestContext,
        source: str,
    ) -> list[Envelope]:
        if self.later is not None and expected_version > 0:
            await self.later.flush()
        return await append(
            self.conn,
            stream_id=stream_id,
            stream_type=stream_type,
            expected_version=expected_version,
            events=events,
            ctx=ctx,
            source=source,
            later=self.later,
        )

    async def load_aggregate(self, cls: type[A], stream_id: str) -> A | None:
        return await load_aggregate(self, cls, stream_id)

    async def save(self, agg: aggregate.Aggregate, ctx: RequestContext, source: str) -> list[Envelope]:
        return await save(self, agg, ctx, source)
