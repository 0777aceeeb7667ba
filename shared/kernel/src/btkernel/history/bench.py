"""What the journal costs an append (docs/adr/0030-tamper-evident-history.md): the same appends, one event per
transaction as a command makes them, with the journal's trigger on and then off, on the same database; printed as
a ratio, never asserted (the machine decides it). Needs the owner's DSN (switching a trigger off is the owner's)
of a database of its own: the appends queue outbox rows of a topic no one reads. The entries the run without the
journal did not get are written afterwards, so `verify` stays clean there.

`python -m btkernel.history bench --dsn OWNER_DSN [--appends N]`
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import asyncpg

from btkernel import eventstore
from btkernel.context import new_context
from btkernel.events.base import Event

TRIGGER = "history_journal"


class _Probe(Event):
    """The benchmark's event: only appended, never published or parsed by a service."""

    TYPE = "bt.history.bench.v1"
    TOPIC = "bt.history.bench"

    n: int


@dataclass(frozen=True)
class Cost:
    appends: int
    with_journal_s: float
    without_journal_s: float

    @property
    def ratio(self) -> float:
        return self.with_journal_s / self.without_journal_s if self.without_journal_s > 0 else 0.0

    def __str__(self) -> str:
        return (
            f"append with the journal: {self.appends} in {self.with_journal_s:.3f} s, without:"
            f" {self.without_journal_s:.3f} s; ratio {self.ratio:.2f}"
        )


async def _appends(conn: asyncpg.Connection, prefix: str, count: int) -> float:
    ctx = new_context(None)
    started = time.perf_counter()
    for i in range(count):
        async with conn.transaction():
            await eventstore.append(
                conn,
                stream_id=f"{prefix}-{i}",
                stream_type="bench",
                expected_version=0,
                events=[_Probe(n=i)],
                ctx=ctx,
                source="/bench",
            )
    return time.perf_counter() - started


async def measure(conn: asyncpg.Connection, appends: int = 1000) -> Cost:
    """Warm up, then time `appends` appends each way, alternating halves so a drift of the machine hits both."""
    run = uuid.uuid4().hex[:8]
    await _appends(conn, f"bench-{run}-warm", min(100, appends))
    with_s = without_s = 0.0
    half = max(1, appends // 2)
    for part in range(2):
        with_s += await _appends(conn, f"bench-{run}-on{part}", half)
        await conn.execute(f"ALTER TABLE events DISABLE TRIGGER {TRIGGER}")
        try:
            without_s += await _appends(conn, f"bench-{run}-off{part}", half)
        finally:
            await conn.execute(f"ALTER TABLE events ENABLE TRIGGER {TRIGGER}")
    await conn.execute(
        "INSERT INTO history_journal (stream_id, version, event_hash) SELECT stream_id, version, hash FROM events"
        " WHERE stream_id LIKE $1 ORDER BY stream_id",
        f"bench-{run}-off%",
    )
    return Cost(2 * half, with_s, without_s)
