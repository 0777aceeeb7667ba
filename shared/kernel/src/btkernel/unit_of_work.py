"""The unit of work: one connection, one transaction, the repositories bound to it, and the events it appended.

A use case takes a unit of work and decides when its changes are final (cosmicpython, ch. 6):

    async with uow:
        case = await uow.events.load_aggregate(Case, case_id)
        case.sign(...)
        await uow.events.save(case, ctx, SOURCE)
        await uow.commit()

Leaving the block without `commit()` rolls back, so a refusal raised halfway leaves nothing behind. A service
subclasses `PgUnitOfWork` to add its repositories over `self.conn` in `bind`, and describes them in a Protocol
extending `UnitOfWork`, which its use cases type against and its unit tests fake (`btkernel.testing`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Protocol, Self

import asyncpg
from asyncpg.transaction import Transaction

from btkernel import db
from btkernel.envelope import Envelope
from btkernel.errors import ConcurrencyConflict
from btkernel.eventstore import EventStore, PgEventStore


class UnitOfWork(Protocol):
    """What every use case may rely on: the event store, commit and rollback, and what was appended so far.

    Repositories are read-only properties in the protocol (and in a service's extension of it), so a plain
    attribute of a more specific type — a `PgEventStore`, an in-memory fake — satisfies them."""

    @property
    def events(self) -> EventStore: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    @property
    def appended(self) -> Sequence[Envelope]:
        """The envelopes the event store appended in this unit of work; empty again after a rollback."""
        ...


class Joined:
    """A consumer batch's transaction, applied without savepoints (ADR 0041): a unit of work `on` its connection
    joins it instead of taking a savepoint of its own — two round trips fewer per event (issue 13). Such a unit of
    work cannot undo its own writes, so leaving it without `commit()` spoils the batch: the consumer rolls the
    batch back and does it again with a savepoint per event, where units of work take their savepoints again.
    Leaving without a commit is a refusal or an answer given early (the case already open): rare on this path."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.spoiled = False


_JOINED: ContextVar[Joined | None] = ContextVar("bt_uow_joined", default=None)


@contextlib.contextmanager
def joining(conn: asyncpg.Connection) -> Iterator[Joined]:
    """While the block runs (in this task), units of work `on(conn)` join `conn`'s transaction."""
    joined = Joined(conn)
    token = _JOINED.set(joined)
    try:
        yield joined
    finally:
        _JOINED.reset(token)


class _JoinedTransaction:
    """What a unit of work that joined a batch's transaction holds instead of a savepoint."""

    def __init__(self, joined: Joined) -> None:
        self._joined = joined

    async def commit(self) -> None:
        """Final with the batch's transaction."""

    async def rollback(self) -> None:
        self._joined.spoiled = True


class _CollectingStore(PgEventStore):
    """The PostgreSQL event store that also remembers what it appended, for the unit of work to report."""

    def __init__(self, conn: asyncpg.Connection, sink: list[Envelope], later: db.Later | None) -> None:
        super().__init__(conn, later)
        self._sink = sink

    async def append(self, **kwargs: Any) -> list[Envelope]:
        envelopes = await super().append(**kwargs)
        self._sink.extend(envelopes)
        return envelopes


class PgUnitOfWork:
    """One transaction on PostgreSQL. Built on a pool, it acquires a connection for the block and gives it back;
    built `on(conn)`, it runs in that connection — as a savepoint when the connection is already in a transaction
    (a consumer's handler, whose idempotency record must commit with it).

    With `batched=True`, writes that need no answer wait in `self.later` (`db.Later`): new streams' events and
    outbox rows, and whatever a repository sends through it; `commit()` sends them in one round trip before
    COMMIT (issue 13: a submission's writes after its receipt number). Nothing read in the block sees them."""

    events: EventStore  # bound to the transaction when the block is entered

    def __init__(
        self,
        pool: asyncpg.Pool | None = None,
        *,
        conn: asyncpg.Connection | None = None,
        batched: bool = False,
    ) -> None:
        if (pool is None) == (conn is None):
            raise TypeError("a unit of work runs on a pool or on a connection, one of the two")
        self._pool = pool
        self._conn = conn
        self._acquired: Any = None
        self._tx: Transaction | _JoinedTransaction | None = None
        self._appended: list[Envelope] = []
        self._batched = batched
        self._later: db.Later | None = None

    @classmethod
    def on(cls, conn: asyncpg.Connection) -> Self:
        return cls(conn=conn)

    @property
    def conn(self) -> asyncpg.Connection:
        """The connection of the open transaction, for the service's repositories and read models."""
        if self._conn is None or self._tx is None:
            raise RuntimeError("the unit of work is not open; use `async with uow:`")
        return self._conn

    @property
    def later(self) -> Any:
        """Where a write that needs no answer goes: kept for the commit in a batched unit of work, else the
        connection itself (both have `execute(query, *args)`)."""
        return self._later if self._later is not None else self.conn

    @property
    def appended(self) -> Sequence[Envelope]:
        return tuple(self._appended)

    def bind(self, conn: asyncpg.Connection) -> None:
        """Called once the transaction is open: subclasses create their repositories over `conn` here."""

    async def __aenter__(self) -> Self:
        if self._tx is not None:
            raise RuntimeError("a unit of work is entered once at a time")
        if self._pool is not None:
            acquiring = self._pool.acquire()
            self._conn = await acquiring.__aenter__()  # a timeout here is an outage (503); nothing to release
            self._acquired = acquiring
        assert self._conn is not None
        joined = _JOINED.get()
        try:
            if self._pool is None and joined is not None and joined.conn is self._conn:
                self._tx = _JoinedTransaction(joined)
            else:
                tx = self._conn.transaction()
                await tx.start()
                self._tx = tx
        except BaseException as exc:
            await self._release(type(exc), exc, exc.__traceback__)
            raise
        self._appended = []
        self._later = db.Later(self._conn) if self._batched else None
        self.events = _CollectingStore(self._conn, self._appended, self._later)
        self.bind(self._conn)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._tx is not None:
                try:
                    await self.rollback()
                except Exception:
                    # The error that ended the block says what went wrong (often the same broken connection);
                    # a failed rollback of it adds nothing, and nothing was committed either way.
                    if exc is None:
                        raise
        finally:
            await self._release(exc_type, exc, tb)

    async def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("nothing to commit: the unit of work is not open, or already committed")
        if self._later is not None:
            # A failure here leaves the block open: __aexit__ rolls back.
            try:
                await self._later.flush()
            except asyncpg.UniqueViolationError as exc:
                # A new stream someone else began at the same time: the conflict `append` reports unbatched.
                if getattr(exc, "table_name", None) == "events":
                    raise ConcurrencyConflict(
                        "this was created by someone else at the same time; reload and try again",
                        code="concurrent_change",
                    ) from exc
                raise
        tx, self._tx = self._tx, None
        await tx.commit()

    async def rollback(self) -> None:
        if self._tx is None:
            return
        tx, self._tx = self._tx, None
        self._appended.clear()  # rolled back: those events never happened
        self._later = None  # and what waited for the commit is never sent
        if self._conn is not None and not self._conn.is_closed():
            await tx.rollback()

    async def _release(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._acquired is not None:
            acquired, self._acquired = self._acquired, None
            self._conn = None
            await acquired.__aexit__(exc_type, exc, tb)
