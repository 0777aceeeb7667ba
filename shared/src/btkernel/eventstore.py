"""Event-sourced aggregates: append-only streams with optimistic concurrency, state rebuilt by folding events.

`append` writes the events and their outbox rows in the caller's transaction, so a state change and the events
announcing it commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import asyncpg

from btkernel import outbox
from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from btkernel.events.base import Event, parse
from btkernel.problems import Conflict


class ConcurrencyConflict(Conflict):
    """Someone else appended to the stream since it was read: reload and retry, or tell the person."""

    title = "Concurrent change"


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
    for offset, event in enumerate(events, start=1):
        env = Envelope.new(
            type=event.TYPE,
            source=source,
            subject=stream_id,
            data=event.to_data(),
            correlation_id=ctx.correlation_id,
            causation_id=ctx.causation_id,
            actor=actor,
        )
        try:
            await conn.execute(
                "INSERT INTO events (stream_id, version, stream_type, event_id, event_type, data, correlation_id,"
                " causation_id, actor, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
                stream_id,
                expected_version + offset,
                stream_type,
                env.id,
                env.type,
                env.data,
                env.correlation_id,
                env.causation_id,
                actor,
                env.time,
            )
        except asyncpg.UniqueViolationError as exc:
            raise ConcurrencyConflict(
                f"{stream_type} {stream_id} was changed by someone else at the same time; reload and try again",
                code="concurrent_change",
            ) from exc
        await outbox.enqueue(conn, event.TOPIC, env)
        envelopes.append(env)
    return envelopes


async def load(conn: asyncpg.Connection, stream_id: str) -> list[StoredEvent]:
    rows = await conn.fetch(
        "SELECT stream_id, version, event_id, event_type, data, recorded_at, correlation_id, causation_id, actor"
        " FROM events WHERE stream_id = $1 ORDER BY version",
        stream_id,
    )
    return [
        StoredEvent(
            r["stream_id"],
            r["version"],
            str(r["event_id"]),
            r["event_type"],
            r["data"],
            r["recorded_at"],
            r["correlation_id"],
            r["causation_id"],
            r["actor"],
        )
        for r in rows
    ]


A = TypeVar("A", bound="Aggregate")


class Aggregate:
    """Base of an event-sourced aggregate. Subclasses define `when_<EventClassName>(event)` to fold each event
    into state and raise `Problem`s from command methods; commands call `record(event)`."""

    STREAM_TYPE: ClassVar[str]

    def __init__(self, stream_id: str) -> None:
        self.id = stream_id
        self.version = 0
        self.pending: list[Event] = []

    def apply(self, event: Event) -> None:
        handler = getattr(self, f"when_{type(event).__name__}", None)
        if handler is None:
            raise TypeError(f"{type(self).__name__} cannot apply {type(event).__name__}")
        handler(event)
        self.version += 1

    def record(self, event: Event) -> None:
        self.apply(event)
        self.pending.append(event)

    @classmethod
    def fold(cls: type[A], stream_id: str, events: Sequence[Event]) -> A:
        agg = cls(stream_id)
        for e in events:
            agg.apply(e)
        return agg

    @classmethod
    async def load(cls: type[A], conn: asyncpg.Connection, stream_id: str) -> A | None:
        stored = await load(conn, stream_id)
        if not stored:
            return None
        return cls.fold(stream_id, [s.event() for s in stored])

    async def save(self, conn: asyncpg.Connection, ctx: RequestContext, source: str) -> list[Envelope]:
        if not self.pending:
            return []
        envelopes = await append(
            conn,
            stream_id=self.id,
            stream_type=self.STREAM_TYPE,
            expected_version=self.version - len(self.pending),
            events=self.pending,
            ctx=ctx,
            source=source,
        )
        self.pending = []
        return envelopes
