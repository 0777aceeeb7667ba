"""PostgreSQL access: the pool with JSON codecs, and migrations applied at start under an advisory lock."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import asyncpg

from btkernel import logging as btlog

log = btlog.get(__name__)

# Any fixed number works; it only has to be the same for every process migrating the same database.
_MIGRATION_LOCK = 0x42_54_4D_49


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


class Pool(asyncpg.Pool):
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


def _scripts(package: str) -> list[tuple[str, str]]:
    folder = resources.files(package)
    return sorted(
        (p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".sql")
    )


async def migrate(pool_or_conn: Any, *packages: str) -> list[str]:
    """Apply every not-yet-applied `*.sql` of the given packages (the kernel's first), each in a transaction.
    Names are recorded per package, so two packages may both have a `001_….sql`."""
    applied: list[str] = []
    async with _acquire(pool_or_conn) as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
                "applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for package in ("btkernel.sql", *packages):
                for name, sql in _scripts(package):
                    key = f"{package}:{name}"
                    if key in done:
                        continue
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", key)
                    applied.append(key)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    if applied:
        log.info("migrations_applied", migrations=applied)
    return applied


class _acquire:
    """`async with` over either a pool (acquire a connection) or a bare connection (use it)."""

    def __init__(self, pool_or_conn: Any) -> None:
        self._src = pool_or_conn
        self._ctx: Any = None

    async def __aenter__(self) -> asyncpg.Connection:
        if isinstance(self._src, asyncpg.Pool):
            self._ctx = self._src.acquire()
            conn: asyncpg.Connection = await self._ctx.__aenter__()
            return conn
        return self._src

    async def __aexit__(self, *exc: object) -> None:
        if self._ctx is not None:
            await self._ctx.__aexit__(*exc)
