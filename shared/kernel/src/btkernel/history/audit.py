"""The audit of personal-data reads, in the history itself (docs/adr/0030-tamper-evident-history.md): each read is
one event of stream type `audit`, in its own stream, chained, taken into the ledger and sealed like any other — so
an entry cannot be removed or changed unseen either. It is never put in the outbox: who looked at whom is not
news for Kafka's consumers.

An entry says who (the actor from the request's verified token), when, what was asked (the route's action and its
query or ids) and what was returned — the ids and their count, never the personal data itself.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from btkernel import clock, eventstore
from btkernel.context import RequestContext

STREAM_TYPE = "audit"
READ_TYPE = "bt.audit.read.v1"


async def record_read(
    pool_or_conn: Any,
    ctx: RequestContext,
    *,
    action: str,
    query: Mapping[str, Any],
    returned: Sequence[str],
) -> str:
    """Record one read; returns its event id. Its own stream (version 1), so reads never wait for each other."""
    event_id = str(uuid.uuid4())
    stream_id = f"audit-{event_id}"
    data = {"action": action, "query": dict(query), "returned": list(returned), "count": len(returned)}
    actor = ctx.actor.id if ctx.actor else None
    await eventstore.keep(
        pool_or_conn,
        stream_id=stream_id,
        stream_type=STREAM_TYPE,
        events=[
            eventstore.Kept(
                event_id, READ_TYPE, data, clock.now(), actor, ctx.correlation_id, ctx.causation_id
            )
        ],
        new_stream=True,
    )
    return event_id


async def reads(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    actor: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Audit entries, newest first, optionally of one actor and within [since, until)."""
    rows = await conn.fetch(
        "SELECT event_id, actor, recorded_at, correlation_id, data FROM events WHERE stream_type = $1"
        " AND ($2::text IS NULL OR actor = $2) AND ($3::timestamptz IS NULL OR recorded_at >= $3)"
        " AND ($4::timestamptz IS NULL OR recorded_at < $4) ORDER BY recorded_at DESC LIMIT $5",
        STREAM_TYPE,
        actor,
        since,
        until,
        limit,
    )
    return [
        {
            "id": str(r["event_id"]),
            "actor": r["actor"],
            "at": r["recorded_at"],
            "correlation_id": r["correlation_id"],
            "action": r["data"].get("action"),
            "query": r["data"].get("query"),
            "returned": r["data"].get("returned"),
            "count": r["data"].get("count"),
        }
        for r in rows
    ]
