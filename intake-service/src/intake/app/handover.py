"""Hand-over of a result at the centre, and receipt of a result from the registry office."""

from __future__ import annotations

import datetime as dt

import asyncpg

from btkernel import sites
from btkernel.context import Actor, RequestContext
from btkernel.envelope import Envelope
from btkernel.events import parse
from btkernel.events.case import ResultSentToCentre
from btkernel.problems import NotFound
from intake.adapters import store
from intake.api.schemas import HandOver
from intake.domain.application import Application

SOURCE = "/intake"


async def _load(conn: asyncpg.Connection, application_id: str) -> Application:
    app = await Application.load(conn, application_id)
    if app is None:
        raise NotFound(f"no application {application_id}")
    return app


async def hand_over(
    conn: asyncpg.Connection,
    application_id: str,
    body: HandOver,
    actor: Actor,
    ctx: RequestContext,
    now: dt.datetime,
) -> None:
    app = await _load(conn, application_id)
    app.hand_over(
        receipt_number=body.receipt_number,
        presented_iin=body.identity_document_iin,
        recipient=body.recipient,
        operator_id=actor.id,
        operator_name=actor.name,
        at=now,
    )
    await app.save(conn, ctx, SOURCE)
    await store.update_from(conn, app, now)


async def on_case_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    """The registry office sent a result to the centre: the application becomes ready for pickup."""
    event = parse(envelope.type, envelope.data)
    assert isinstance(event, ResultSentToCentre)
    app = await _load(conn, event.application_id)
    centre = sites.load().centre(event.centre_id)
    place = f"{centre.name.ru}, {centre.address}" if centre else event.centre_id
    now = dt.datetime.now(dt.UTC)
    app.receive_result(
        case_id=event.case_id,
        outcome=event.outcome,
        record_number=event.record_number,
        at=now,
        pickup_place=place,
    )
    await app.save(conn, ctx, SOURCE)
    await store.update_from(conn, app, now)
