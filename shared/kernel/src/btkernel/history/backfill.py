"""Hashes for the events recorded before the chain existed (`make run` data): each stream chained in version
order, as if it had been appended with this code. Run by `btkernel.migrate` right after the kernel's files, as the
database's owner; the append-only trigger lets exactly this through (a row without hash gets its hashes, nothing
else changes)."""

from __future__ import annotations

from typing import Any

import asyncpg

from btkernel import logging as btlog
from btkernel.history import chain

log = btlog.get(__name__)

_STREAMS = (
    "SELECT stream_id, version, stream_type, event_id, event_type, data, actor, correlation_id, causation_id,"
    " recorded_at, prev_hash, hash FROM events"
    " WHERE stream_id IN (SELECT DISTINCT stream_id FROM events WHERE hash IS NULL)"
    " ORDER BY stream_id, version"
)


async def has_chain(conn: asyncpg.Connection) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = 'events' AND column_name = 'hash'"
        )
    )


async def backfill(conn: asyncpg.Connection) -> int:
    """Chain every event without a hash; returns how many. A no-op on a database already chained."""
    if not await has_chain(conn):
        return 0
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM events WHERE hash IS NULL)"):
        return 0
    updates: list[tuple[Any, ...]] = []
    async with conn.transaction():
        prev: Any = None
        async for row in conn.cursor(_STREAMS, prefetch=2000):
            link = prev["hash"] if prev is not None and prev["stream_id"] == row["stream_id"] else None
            if row["hash"] is None:
                values = dict(row) | {"prev_hash": link}
                digest = chain.row_hash(values)
                updates.append((row["stream_id"], row["version"], link, digest))
                prev = {"stream_id": row["stream_id"], "hash": digest}
            else:
                prev = row
        await conn.executemany(
            "UPDATE events SET prev_hash = $3, hash = $4 WHERE stream_id = $1 AND version = $2 AND hash IS NULL",
            updates,
        )
    log.info("history_backfilled", events=len(updates))
    return len(updates)
