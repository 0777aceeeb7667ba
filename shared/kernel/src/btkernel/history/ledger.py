"""The ledger and the seals (docs/adr/0030-tamper-evident-history.md).

Appends chain each event to the one before it *in its stream* only, so two requests on two streams never wait for
each other. The sealer (one process at a time, under an advisory lock) then gives every new event a place in one
database-wide chain, `history_ledger`, and signs that chain's head: a seal. A stream deleted whole, or the last
events of a stream, are then missed by the ledger, and a seal published outside (the gateway's `/history/seals`)
holds the ledger's head to what it was.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from btkernel import clock, signing
from btkernel.history import chain

# Any fixed number; the same in every process sealing the same database (two instances of a service).
LOCK_ID = 0x42_54_48_53
SEAL_TYPE = "bt.history.seal.v1"
# Events taken into the ledger per statement; a round goes on until none is left.
BATCH = 5_000

_UNLINKED = (
    "SELECT e.stream_id, e.version, e.hash FROM events e WHERE e.hash IS NOT NULL AND NOT EXISTS"
    " (SELECT 1 FROM history_ledger l WHERE l.stream_id = e.stream_id AND l.version = e.version)"
    " ORDER BY e.recorded_at, e.stream_id, e.version LIMIT $1"
)


async def _link(conn: asyncpg.Connection) -> int:
    """Every event not yet in the ledger, appended to it; the caller holds the lock, in a transaction."""
    head = await conn.fetchrow("SELECT position, hash FROM history_ledger ORDER BY position DESC LIMIT 1")
    position, prev = (head["position"], head["hash"]) if head else (0, None)
    total = 0
    while True:
        rows = await conn.fetch(_UNLINKED, BATCH)
        if not rows:
            return total
        records = []
        for row in rows:
            position += 1
            entry = chain.ledger_hash(
                position=position,
                stream_id=row["stream_id"],
                version=row["version"],
                event_hash=row["hash"],
                prev_hash=prev,
            )
            records.append((position, row["stream_id"], row["version"], row["hash"], prev, entry))
            prev = entry
        await conn.copy_records_to_table(
            "history_ledger",
            records=records,
            columns=["position", "stream_id", "version", "event_hash", "prev_hash", "hash"],
        )
        total += len(records)


async def link(conn: asyncpg.Connection) -> int | None:
    """Take new events into the ledger; None when another process holds the sealer's lock."""
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", LOCK_ID):
            return None
        return await _link(conn)


async def seal(conn: asyncpg.Connection, key: Ed25519PrivateKey, service: str) -> dict[str, Any] | None:
    """Link new events, then sign the ledger's head and keep the seal; None when there was nothing new to seal
    (or another process of the same database is sealing right now)."""
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", LOCK_ID):
            return None
        await _link(conn)
        head = await conn.fetchrow("SELECT position, hash FROM history_ledger ORDER BY position DESC LIMIT 1")
        if head is None:
            return None
        last = await conn.fetchval("SELECT max(position) FROM history_seals")
        if last == head["position"]:
            return None
        document = signing.sign(
            {
                "type": SEAL_TYPE,
                "service": service,
                "database": await conn.fetchval("SELECT current_database()"),
                "position": head["position"],
                "head": head["hash"].hex(),
                "sealed_at": chain.timestamp(clock.now()),
            },
            key,
        )
        await conn.execute(
            "INSERT INTO history_seals (position, document) VALUES ($1, $2::jsonb)",
            head["position"],
            document,
        )
        return document


async def latest_seals(conn: asyncpg.Connection, limit: int = 10) -> list[dict[str, Any]]:
    """The newest seals first, as signed."""
    rows = await conn.fetch("SELECT document FROM history_seals ORDER BY id DESC LIMIT $1", limit)
    return [dict(r["document"]) for r in rows]
