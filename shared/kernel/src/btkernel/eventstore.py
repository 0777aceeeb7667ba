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

from btkernel import aggregate, outbox
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


async def append(
    conn: asyncpg.Connection,
    *,
    stream_id: str,
    stream_type: str,
    expected_version: int,
    events: Sequence[Event],
    ctx: RequestContext,
    source: str,
) -> list[Envelope]:
    """Append `events` after `expected_version` and queue them for publication; raise on a concurrent append."""
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
    for offset, event in enumerate(events, start=1):
        env = envelope_for(event, stream_id=stream_id, ctx=ctx, source=source)
        version = expected_version + offset
        digest = chain.event_hash(
            stream_id=stream_id,
            version=version,
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
        try:
            await conn.execute(
                "INSERT INTO events (stream_id, version, stream_type, event_id, event_type, data, correlation_id,"
                " causation_id, actor, recorded_at, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
                stream_id,
                version,
                stream_type,
                env.id,
                env.type,
                env.data,
                env.correlation_id,
                env.causation_id,
                actor,
                env.time,
                prev_hash,
                digest,
            )
        except asyncpg.UniqueViolationError as exc:
            raise concurrency_conflict(stream_type, stream_id) from exc
        prev_hash = digest
        await outbox.enqueue(conn, event.TOPIC, env)
        envelopes.append(env)
    return envelopes


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
    """The event store on one connection, inside the caller's (the unit of work's) transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def load(self, stream_id: str) -> list[StoredEvent]:
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
        return await append(
            self.conn,
            stream_id=stream_id,
            stream_type=stream_type,
            expected_version=expected_version,
            events=events,
            ctx=ctx,
            source=source,
        )

    async def load_aggregate(self, cls: type[A], stream_id: str) -> A | None:
        return await load_aggregate(self, cls, stream_id)

    async def save(self, agg: aggregate.Aggregate, ctx: RequestContext, source: str) -> list[Envelope]:
        return await save(self, agg, ctx, source)
