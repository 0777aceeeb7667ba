"""Test helpers for services: run a service's ASGI app with its lifespan against a real database, build the
internal token the gateway would send (signed by a test key pair), and fake the unit of work for use-case unit
tests (no database)."""

from __future__ import annotations

import copy
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from fastapi import FastAPI

from btkernel import aggregate, eventstore, internal_token
from btkernel.context import Actor, RequestContext
from btkernel.envelope import Envelope
from btkernel.events.base import Event
from btkernel.eventstore import StoredEvent
from btkernel.settings import ServiceSettings

A = TypeVar("A", bound=aggregate.Aggregate)


# A key pair of this test process only, playing the gateway's: in-process apps trust its public half when their
# settings are given it (`trust_test_key`), and nothing outside this process ever does.
TEST_SIGNER = internal_token.Signer(internal_token.generate_private_key())
TEST_PUBLIC_KEY = internal_token.public_key_pem(TEST_SIGNER.public_key)
# Test tokens are often built once, at a test module's import, and used for the whole session: a day, not 60 s.
TEST_TOKEN_TTL_S = 24 * 3600
# Whom a test token is addressed to: every in-process app a test may build (each checks its own name is there).
# The kernel's own default name; the platform's service names are added by whoever knows them (btdeploy.testing).
AUDIENCES: list[str] = [str(ServiceSettings.model_fields["service_name"].default)]


def trust_test_key(audiences: Sequence[str] = ()) -> None:
    """Make every service settings read from now on in this process trust the test key
    (BT_INTERNAL_TOKEN_PUBLIC_KEY), and address test tokens to `audiences` too. For a pytest plugin, before any
    app module is imported (their module-level apps read the environment)."""
    os.environ["BT_INTERNAL_TOKEN_PUBLIC_KEY"] = TEST_PUBLIC_KEY
    AUDIENCES.extend(a for a in audiences if a not in AUDIENCES)


def actor_token(
    actor_id: str,
    role: str,
    site: str | None = None,
    name: str | None = None,
    *,
    audience: str | Sequence[str] | None = None,
    ttl_s: int = TEST_TOKEN_TTL_S,
) -> str:
    actor = Actor(id=actor_id, name=name or actor_id, role=role, site=site or None)
    return TEST_SIGNER.sign(actor, audience if audience is not None else AUDIENCES, ttl_s=ttl_s)


def actor_headers(
    actor_id: str,
    role: str,
    site: str | None = None,
    name: str | None = None,
    *,
    audience: str | Sequence[str] | None = None,
) -> dict[str, str]:
    """The header the gateway sends for this actor: an internal token signed by the test key."""
    return {internal_token.HEADER: actor_token(actor_id, role, site, name, audience=audience)}


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
