"""The Kafka consumer's handler: binds the consumer's connection (its transaction, with the processed_events row)
to the PostgreSQL stores and runs the assessment and payment-linking use cases."""

from __future__ import annotations

import asyncpg

from btkernel import clock, db
from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from civreg import events
from civreg.events.application import ApplicationSubmitted
from fees.adapters.payments import PgPayments
from fees.adapters.store import PgStore
from fees.app import assess, payments


async def on_application_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    """The fee decision, and the payment the receipt states (ADR 0034), in the consumer's one transaction. The
    decision's history and outbox row go in one round trip, before the payment is linked (so its outbox row, if
    any, still follows the FeeAssessed)."""
    later = db.Later(conn)
    decided = await assess.apply(envelope, PgStore(conn, later), actor=ctx.actor.id if ctx.actor else None)
    await later.flush()
    event = events.parse(envelope.type, envelope.data)
    if decided is not None and isinstance(event, ApplicationSubmitted):
        await payments.link_application(event, PgPayments(conn), envelope, clock.now())
