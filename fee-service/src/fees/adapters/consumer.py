"""The Kafka consumer's handler: binds the consumer's connection (its transaction, with the processed_events row)
to the PostgreSQL store and runs the assessment use case."""

from __future__ import annotations

import asyncpg

from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from fees.adapters.store import PgStore
from fees.app import assess


async def on_application_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    await assess.apply(envelope, PgStore(conn), actor=ctx.actor.id if ctx.actor else None)
