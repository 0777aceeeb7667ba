"""PostgreSQL access: the pool with JSON codecs and bounded waits (migrations: `btkernel.migrate`)."""

from __future__ import annotations

import json
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
        timeout=CONNECT_TIMEOUT_S,
    )
    await pool
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    await _init_connection(conn)
    return conn


async def migrate(pool_or_conn: Any, *packages: str) -> list[str]:
    """Apply the kernel's and `packages`' new migrations, checksummed, under an advisory lock: `btkernel.migrate`
    (ADR 0015). Here for the callers that build a database themselves (tests, `gateway.admin`)."""
    from btkernel import migrate as migrations  # lazily: it imports this module

    return await migrations.apply(pool_or_conn, *packages)
