"""PostgreSQL access: the pool with JSON codecs and bounded waits (migrations: `btkernel.migrate`)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import asyncpg

from btkernel import logging as btlog

log = btlog.get(__name__)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(
            typ,
            encoder=lambda v: json.dumps(v, ensure_ascii=False, default=str),
            decoder=json.loads,
            schema="pg_catalog",
        )


# A request waits at most this long for a pooled connection, then gets a 503 with Retry-After
# (problems.OUTAGE_ERRORS has TimeoutError): shorter than the gateway's upstream timeout (15 s), so a saturated
# or unreachable database reads as "unavailable, retry", not as the gateway's 504 "no answer".
ACQUIRE_TIMEOUT_S = 10.0
# Opening a connection: asyncpg's default of 60 s would outlast every request waiting on it.
CONNECT_TIMEOUT_S = 5.0


# asyncpg ships no type information, so its Pool is Any to mypy.
class Pool(asyncpg.Pool):  # type: ignore[misc]
    """asyncpg's pool whose `acquire()` (and so `fetch`, `execute`, …) waits at most ACQUIRE_TIMEOUT_S unless a
    caller says otherwise."""

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=ACQUIRE_TIMEOUT_S if timeout is None else timeout)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection needs between two borrowers of the pool: nothing beyond what asyncpg always does (roll
    back an open transaction, drop listeners). Its default reset (`pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL`) was one more round trip on every release, a submission's and each consumer batch's
    (issue 13, ADR 0043). The rule that makes it safe: session state never lives on a pooled connection. Session
    advisory locks (the relay's, the partner feeds', migrations', rebuilds'), LISTEN and plain SET are taken on
    connections of their own (`connect`); pooled work uses transactions, `SET LOCAL` and transaction-level locks."""


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    # What asyncpg.create_pool does, with this module's Pool class (create_pool has no parameter for it).
    pool = Pool(
        dsn,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        min_size=min_size,
        max_size=max_size,
        max_queries=50000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        init=_init_connection,
        reset=_keep_session,
        timeout=CONNECT_TIMEOUT_S,
    )
    await pool
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    await _init_connection(conn)
    return conn


# A write and its arguments, as `conn.execute(query, *args)` takes them.
Statement = tuple[str, Sequence[Any]]
_PARAMETER = re.compile(r"\$(\d+)")


def _renumbered(query: str, offset: int) -> str:
    return _PARAMETER.sub(lambda m: f"${int(m[1]) + offset}", query)


def together(writes: Sequence[Statement], notify: Sequence[str] = ()) -> Statement:
    """One statement doing every write, then NOTIFY on each channel: one round trip instead of one each (issue 13;
    a submission's writes run while it holds its centre's receipt counter). Each write becomes a data-modifying
    WITH query, which PostgreSQL runs exactly once and to completion; they share one snapshot and their order is
    not defined, so they must not depend on each other's rows (independent INSERTs, as an append's events and
    outbox rows and a read model's row). Constraints and AFTER triggers (the history journal) still fire, at the
    end of the statement. `$n` in a write's text are its own parameters, renumbered here: no write may contain a
    literal `$` followed by a digit."""
    if not writes and not notify:
        raise ValueError("nothing to write")
    parts: list[str] = []
    args: list[Any] = []
    for i, (query, params) in enumerate(writes):
        offset = len(args)
        parts.append(f"w{i} AS ({_renumbered(query, offset)})")
        args.extend(params)
    channels = [f"pg_notify(${len(args) + i + 1}, '')" for i in range(len(notify))]
    args.extend(notify)
    head = f"WITH {', '.join(parts)} " if parts else ""
    return f"{head}SELECT {', '.join(channels) or '1'}", args


async def execute_together(
    conn: asyncpg.Connection, writes: Sequence[Statement], notify: Sequence[str] = ()
) -> None:
    """`together`'s statement on `conn`; a single write without notifications goes as it is."""
    if len(writes) == 1 and not notify:
        query, params = writes[0]
        await conn.execute(query, *params)
        return
    query, params = together(writes, notify)
    await conn.execute(query, *params)


class Later:
    """Writes that need no answer, kept until the transaction commits and then sent in one round trip
    (`execute_together`). `execute` has `asyncpg.Connection.execute`'s form, so a repository or
    `btkernel.idempotency.store` writes through either. What is kept is not visible to reads in the
    transaction until `flush()`: for writes nothing reads back before the commit (a new stream, a new row)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.writes: list[Statement] = []
        self.channels: list[str] = []

    async def execute(self, query: str, *args: Any) -> str:
        self.writes.append((query, args))
        return ""

    def notify(self, channel: str) -> None:
        if channel not in self.channels:
            self.channels.append(channel)

    async def flush(self) -> None:
        if self.writes or self.channels:
            writes, channels = self.writes, self.channels
            self.writes, self.channels = [], []
            await execute_together(self.conn, writes, channels)


async def migrate(pool_or_conn: Any, *packages: str) -> list[str]:
    """Apply the kernel's and `packages`' new migrations, checksummed, under an advisory lock: `btkernel.migrate`
    (ADR 0015). Here for the callers that build a database themselves (tests, `gateway.admin`)."""
    from btkernel import migrate as migrations  # lazily: it imports this module

    return await migrations.apply(pool_or_conn, *packages)
