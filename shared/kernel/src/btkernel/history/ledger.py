"""The ledger and the seals (docs/adr/0030-tamper-evident-history.md).

Appends chain each event to the one before it *in its stream* only, so two requests on two streams never wait for
each other. The sealer (one process at a time, under an advisory lock) then gives every new event a place in one
database-wide chain, `history_ledger`, and signs that chain's head: a seal. A stream deleted whole, or the last
events of a stream, are then missed by the ledger, and a seal published outside (the gateway's `/history/seals`)
holds the ledger's head to what it was.

What the sealer takes is the journal (`history_journal`), written by a trigger in the appending transaction itself:
an event deleted before the sealer's round leaves its journal entry behind, and `verify` names it. The sealer reads
only from its bookmark on, the horizon of its last round: entries of transactions that had finished before that
round's snapshot (their transaction id below the snapshot's xmin) were all visible to it and are linked; any other
is at or above the horizon. A sequence alone would not do: a transaction that took seq 10 may commit after one that
took seq 11, and a bookmark at 11 would skip it for ever.
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

# Journal entries of transactions finished before this round's snapshot, from the last round's horizon on, not yet
# linked (the anti-join only guards a repeated range: by construction there is none). The hash of an event from
# before the chain is the event's own, given by the back-fill after the journal took it.
_UNLINKED = (
    "SELECT j.seq, j.stream_id, j.version, coalesce(j.event_hash, e.hash) AS hash FROM history_journal j"
    " LEFT JOIN events e ON e.stream_id = j.stream_id AND e.version = j.version"
    " WHERE ($1::xid8 IS NULL OR j.xid >= $1) AND j.xid < $2 AND j.seq > $3 AND NOT EXISTS"
    " (SELECT 1 FROM history_ledger l WHERE l.stream_id = j.stream_id AND l.version = j.version)"
    " ORDER BY j.seq LIMIT $4"
)


async def _link(conn: asyncpg.Connection) -> int:
    """Every journal entry not yet in the ledger, appended to it; the caller holds the lock, in a transaction."""
    head = await conn.fetchrow(
        "SELECT position, hash, horizon FROM history_ledger ORDER BY position DESC LIMIT 1"
    )
    position, prev, since = (head["position"], head["hash"], head["horizon"]) if head else (0, None, None)
    # Taken before reading: every transaction below it has finished, so its entries are visible to what follows.
    horizon = await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())")
    total, after = 0, 0
    while True:
        rows = await conn.fetch(_UNLINKED, since, horizon, after, BATCH)
        if not rows:
            break
        records = []
        for row in rows:
            after = row["seq"]
            if row["hash"] is None:
                # Its event is gone (or was never hashed): nothing to link; `verify` names the journal entry.
                continue
            position += 1
            entry = chain.ledger_hash(
                position=position,
                stream_id=row["stream_id"],
                version=row["version"],
                event_hash=row["hash"],
                prev_hash=prev,
            )
            records.append((position, row["stream_id"], row["version"], row["hash"], prev, entry, horizon))
            prev = entry
        if records:
            await conn.copy_records_to_table(
                "history_ledger",
                records=records,
                columns=["position", "stream_id", "version", "event_hash", "prev_hash", "hash", "horizon"],
            )
        total += len(records)
    return total


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
