"""The partner feeds' rows (`partner_feeds`), the record read model as the feeds need it, and the advisory lock
that makes one registry process at a time the publisher of an agency's feed."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg

from btkernel import db
from civreg.partners import RecordRef
from registry.app.partner_feed import FeedState, transactional_id


class PgFeedStore:
    """FeedStore on the service's pool; every call is its own short transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def state(self, agency: str) -> FeedState | None:
        row = await self.pool.fetchrow("SELECT * FROM partner_feeds WHERE agency = $1", agency)
        if row is None:
            return None
        return FeedState(
            agency=row["agency"],
            published_digest=row["published_digest"],
            republish_requested_at=row["republish_requested_at"],
            republish_requested_by=row["republish_requested_by"],
        )

    async def request_republish(self, agency: str, by: str) -> None:
        await self.pool.execute(
            "INSERT INTO partner_feeds (agency, republish_requested_at, republish_requested_by)"
            " VALUES ($1, now(), $2) ON CONFLICT (agency) DO UPDATE"
            " SET republish_requested_at = now(), republish_requested_by = $2",
            agency,
            by,
        )

    async def republished(self, agency: str, digest: str, request: dt.datetime | None) -> None:
        # A request made while this re-publication ran (a newer timestamp) stays, and is acted on next.
        await self.pool.execute(
            "INSERT INTO partner_feeds (agency, published_digest, republished_at) VALUES ($1, $2, now())"
            " ON CONFLICT (agency) DO UPDATE SET published_digest = $2, republished_at = now(),"
            " republish_requested_at = CASE WHEN partner_feeds.republish_requested_at IS NOT DISTINCT FROM $3"
            " THEN NULL ELSE partner_feeds.republish_requested_at END,"
            " republish_requested_by = CASE WHEN partner_feeds.republish_requested_at IS NOT DISTINCT FROM $3"
            " THEN NULL ELSE partner_feeds.republish_requested_by END",
            agency,
            digest,
            request,
        )

    async def published(self, agency: str, events: int, skipped: int) -> None:
        await self.pool.execute(
            "UPDATE partner_feeds SET last_published_at = now(), last_batch_events = $2,"
            " skipped_events = skipped_events + $3 WHERE agency = $1",
            agency,
            events,
            skipped,
        )

    async def record_refs(self, record_ids: Sequence[str]) -> dict[str, RecordRef]:
        rows = await self.pool.fetch(
            "SELECT record_id, kind, registry_office_id FROM records WHERE record_id = ANY($1::text[])",
            list(record_ids),
        )
        return {r["record_id"]: RecordRef(r["kind"], r["registry_office_id"]) for r in rows}

    async def all_states(self) -> list[dict[str, Any]]:
        rows = await self.pool.fetch("SELECT * FROM partner_feeds ORDER BY agency")
        return [dict(r) for r in rows]


class AdvisoryLeadership:
    """`async with leadership(agency)`: waits until this process holds the agency's session advisory lock, on a
    connection of its own kept for as long as the feed runs (a crash or a lost session releases it)."""

    def __init__(self, dsn: str, poll_s: float = 2.0) -> None:
        self.dsn = dsn
        self.poll_s = poll_s

    @contextlib.asynccontextmanager
    async def __call__(self, agency: str) -> AsyncIterator[None]:
        conn = await db.connect(self.dsn)
        try:
            key = transactional_id(agency)
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", key):  # noqa: ASYNC110
                await asyncio.sleep(self.poll_s)
            yield
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
