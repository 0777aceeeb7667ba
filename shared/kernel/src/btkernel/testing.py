"""Test helpers for services: run a service's ASGI app with its lifespan against a real database, build the
identity headers the gateway would send, and fake the unit of work for use-case unit tests (no database)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from fastapi import FastAPI

from btkernel import aggregate, eventstore
from btkernel.context import RequestContext, encode_name
from btkernel.envelope import Envelope
from btkernel.events.base import Event
from btkernel.eventstore import StoredEvent

A = TypeVar("A", bound=aggregate.Aggregate)


def actor_headers(
    actor_id: str, role: str, site: str | None = None, name: str | None = None
) -> dict[str, str]:
    headers = {"X-Actor-Id": actor_id, "X-Actor-Role": role, "X-Actor-Name": encode_name(name or actor_id)}
    if site:
        headers["X-Actor-Site"] = site
    return headers


@asynccontextmanager
async def serve(build: Callable[[], FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run (pool, migrations, relay and consumers as its settings say)."""
    app = build()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client


class InMemoryEventStore:
    """The event store in a dict, with the same optimistic concurrency and envelopes as `PgEventStore`.
    `outbox` lists (topic, envelope) in the order they would be published."""

    def __init__(self) -> None:
        self.streams: dict[str, list[StoredEvent]] = {}
        self.outbox: list[tuple[str, Envelope]] = []

    def given(self, stream_id: str, *events: Event, stream_type: str = "test") -> None:
        """Arrange a stream's history directly (a test's "given these events")."""
        stream = self.streams.setdefault(stream_id, [])
        ctx = RequestContext(correlation_id="given")
        for event in events:
            env = eventstore.envelope_for(event, stream_id=stream_id, ctx=ctx, source="/given")
            stream.append(_stored(stream_id, len(stream) + 1, env))

    async def load(self, stream_id: str) -> list[StoredEvent]:
        return list(self.streams.get(stream_id, []))

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
        stream = self.streams.setdefault(stream_id, [])
        if len(stream) != expected_version:
            raise eventstore.concurrency_conflict(stream_type, stream_id)
        envelopes = []
        for event in events:
            env = eventstore.envelope_for(event, stream_id=stream_id, ctx=ctx, source=source)
            stream.append(_stored(stream_id, len(stream) + 1, env))
            self.outbox.append((event.TOPIC, env))
            envelopes.append(env)
        return envelopes

    async def load_aggregate(self, cls: type[A], stream_id: str) -> A | None:
        return await eventstore.load_aggregate(self, cls, stream_id)

    async def save(self, agg: aggregate.Aggregate, ctx: RequestContext, source: str) -> list[Envelope]:
        return await eventstore.save(self, agg, ctx, source)

    def types(self, stream_id: str) -> list[str]:
        """The event types of one stream, oldest first: what a test usually asserts."""
        return [s.type for s in self.streams.get(stream_id, [])]


def _stored(stream_id: str, version: int, env: Envelope) -> StoredEvent:
    return StoredEvent(
        stream_id,
        version,
        env.id,
        env.type,
        env.data,
        env.time,
        env.correlation_id,
        env.causation_id,
        env.actor,
    )


class FakeUnitOfWork:
    """A unit of work in memory. Commit is counted (`commits`); leaving the block without it restores the event
    store and every object passed to `track` (a service's fake repositories) as they were on entry, as a
    PostgreSQL rollback would. Services subclass it and `track` their fake repositories in `__init__`."""

    def __init__(self, events: InMemoryEventStore | None = None) -> None:
        self.events = events or InMemoryEventStore()
        self.commits = 0
        self.rollbacks = 0
        self._tracked: list[object] = [self.events]
        self._snapshot: list[dict[str, Any]] | None = None
        self._outbox_at = 0

    def track(self, *repositories: object) -> None:
        self._tracked.extend(repositories)

    @property
    def committed(self) -> bool:
        return self.commits > 0

    @property
    def appended(self) -> Sequence[Envelope]:
        return tuple(env for _, env in self.events.outbox[self._outbox_at :])

    async def __aenter__(self) -> Self:
        if self._snapshot is not None:
            raise RuntimeError("a unit of work is entered once at a time")
        self._snapshot = [copy.deepcopy(vars(obj)) for obj in self._tracked]
        self._outbox_at = len(self.events.outbox)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._snapshot is not None:
            await self.rollback()

    async def commit(self) -> None:
        if self._snapshot is None:
            raise RuntimeError("nothing to commit: the unit of work is not open, or already committed")
        self._snapshot = None
        self.commits += 1

    async def rollback(self) -> None:
        if self._snapshot is None:
            return
        for obj, state in zip(self._tracked, self._snapshot, strict=True):
            vars(obj).clear()
            vars(obj).update(state)
        self._snapshot = None
        self.rollbacks += 1
