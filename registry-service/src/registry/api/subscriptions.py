"""The events the registry consumes, each handed to its use case in a unit of work on the consumer's connection (a
savepoint): `btkernel.consumer` records the event as processed in the same transaction, so a redelivery is
skipped and a failure leaves neither."""

from __future__ import annotations

import asyncpg

from btkernel import clock
from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from civreg.events import parse
from civreg.events.application import ApplicationForwarded
from registry.adapters.unit_of_work import PgRegistryUnitOfWork
from registry.app import cases, deadline_projector

APPLICATION_TYPES = [ApplicationForwarded.TYPE]
CASE_TYPES = deadline_projector.HANDLED_TYPES
NOTIFICATION_TYPES = deadline_projector.NOTIFICATION_TYPES


async def on_application_forwarded(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    event = parse(envelope.type, envelope.data)
    assert isinstance(event, ApplicationForwarded)
    await cases.open_case(PgRegistryUnitOfWork.on(conn), event, ctx, clock.now())


async def on_case_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    """Deadlines follow the case's own events (group `registry.deadlines`, ADR 6)."""
    await deadline_projector.on_case_event(PgRegistryUnitOfWork.on(conn), envelope)


async def on_notification_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    """The extension notice is given when its mail is delivered (group `registry.notices`)."""
    await deadline_projector.on_notification_event(PgRegistryUnitOfWork.on(conn), envelope)
