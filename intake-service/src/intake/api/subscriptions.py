"""The events intake consumes, each handed to its use case in the consumer's transaction (`btkernel.consumer`
records the event as processed in the same one, so a redelivery is skipped)."""

from __future__ import annotations

import asyncpg

from btkernel import clock
from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from civreg.events import parse
from civreg.events.case import RegistrationDateAssigned, ResultSentToCentre
from intake.adapters.complaint_cabinet import PgComplaintCabinet
from intake.adapters.unit_of_work import PgIntakeUnitOfWork
from intake.app import complaint_cabinet, handover, known_records

RECORD_TYPES = known_records.HANDLED_TYPES
COMPLAINT_TYPES = complaint_cabinet.HANDLED_TYPES


async def on_result_sent(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    event = parse(envelope.type, envelope.data)
    assert isinstance(event, ResultSentToCentre)
    await handover.receive_result(event, ctx, clock.now(), PgIntakeUnitOfWork.on(conn))


async def on_date_assigned(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    event = parse(envelope.type, envelope.data)
    assert isinstance(event, RegistrationDateAssigned)
    await handover.tell_date_assigned(event, ctx, clock.now(), PgIntakeUnitOfWork.on(conn))


async def on_record_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    await known_records.learn(parse(envelope.type, envelope.data), PgIntakeUnitOfWork.on(conn))


async def on_complaint_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    """The portal applicant follows a complaint in the personal cabinet (group `intake.complaints`, ADR 0035)."""
    await complaint_cabinet.record(PgComplaintCabinet(conn), envelope)
