"""The events the registry consumes, each handed to its use case in a unit of work on the consumer's connection (a
savepoint): `btkernel.consumer` records the event as processed in the same transaction, so a redelivery is
skipped and a failure leaves neither."""

from __future__ import annotations

import asyncpg

from btkernel import clock
from btkernel.consumer import Handler
from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from civreg.events import parse
from civreg.events.agency import CaseSentToAgency
from civreg.events.application import ApplicationForwarded
from registry.adapters.agency_requests import AgencyRequestSender
from registry.adapters.unit_of_work import PgRegistryUnitOfWork
from registry.app import agency_cases, cases, complaint_deadlines, deadline_projector

APPLICATION_TYPES = [ApplicationForwarded.TYPE]
CASE_TYPES = deadline_projector.HANDLED_TYPES
NOTIFICATION_TYPES = deadline_projector.NOTIFICATION_TYPES
COMPLAINT_TYPES = complaint_deadlines.HANDLED_TYPES
AGENCY_REQUEST_TYPES = [CaseSentToAgency.TYPE]


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


async def on_complaint_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    """Complaints' terms follow their events (group `registry.complaint-deadlines`, ADR 0035)."""
    await complaint_deadlines.on_complaint_event(PgRegistryUnitOfWork.on(conn), envelope)


def agency_request_handler(sender: AgencyRequestSender) -> Handler:
    """Each case sent to an agency goes out as its signed request (group `registry.agency-requests`, ADR 0040)."""

    async def on_sent_to_agency(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
        await sender.send(envelope)

    return on_sent_to_agency


def agency_answer_handler(agency: str) -> Handler:
    """The answers on `agency.<agency>.answers` (group `registry.agency-answers`): the topic says who answers."""

    async def on_answer(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
        await agency_cases.take_answer(PgRegistryUnitOfWork.on(conn), agency, envelope, ctx, clock.now())

    return on_answer
