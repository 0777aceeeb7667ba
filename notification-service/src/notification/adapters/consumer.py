"""The Kafka consumers' handler: binds the consumer's connection (its transaction, with the processed_events row)
to the PostgreSQL store and runs the projection use case."""

from __future__ import annotations

import asyncpg

from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from notification.adapters.store import PgStore
from notification.app import complaints, projection


async def on_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    await projection.apply(envelope, PgStore(conn))


async def on_complaint_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    """The answer to a complaint, by mail (group `notification.complaints`, ADR 0035)."""
    await complaints.apply(envelope, PgStore(conn))
