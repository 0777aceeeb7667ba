"""Hand-over of a result at the centre, and receipt of a result from the registry office."""

from __future__ import annotations

import datetime as dt

import asyncpg

from btkernel import clock, sites
from btkernel.context import Actor, RequestContext
from btkernel.envelope import Envelope
from btkernel.events import parse
from btkernel.events.application import ApplicationCabinetNotified
from btkernel.events.case import RegistrationDateAssigned, ResultSentToCentre
from btkernel.problems import NotFound
from intake.adapters import store
from intake.api.schemas import HandOver
from intake.domain.application import READY_FOR_PICKUP, Application

SOURCE = "/intake"
# How the personal cabinet words each kind of assigned date (services.md §2.7).
DATE_WORDS = {
    "date_of_registration": "Назначена дата государственной регистрации",
    "date_of_issue": "Назначена дата выдачи результата",
    "time_of_issue": "Назначено время выдачи результата (дата)",
    "date_of_restoration": "Назначена дата восстановления записи",
    "date_of_annulment": "Назначена дата аннулирования записи",
}


async def load_application(conn: asyncpg.Connection, application_id: str) -> Application:
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
    app = await load_application(conn, application_id)
    app.hand_over(
        receipt_number=body.receipt_number,
        presented_iin=body.identity_document_iin,
        recipient=body.recipient,
        operator_id=actor.id,
        operator_name=actor.name,
        at=now,
    )
    await save_application(conn, app, ctx, now)


def _place(site_id: str) -> str:
    reference = sites.load()
    site = reference.centre(site_id) or reference.office(site_id)
    return f"{site.name.ru}, {site.address}" if site else site_id


async def save_application(
    conn: asyncpg.Connection, app: Application, ctx: RequestContext, now: dt.datetime
) -> None:
    pending = list(app.pending)
    base = app.version - len(pending)
    await app.save(conn, ctx, SOURCE)
    for i, event in enumerate(pending, start=1):
        if isinstance(event, ApplicationCabinetNotified):
            await store.insert_cabinet_notification(conn, app, event, base + i)
    await store.update_from(conn, app, now)


async def on_case_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    """The registry office sent a result (or its reasoned refusal) to where the application was accepted: the
    application becomes ready for pickup; a portal applicant is told in the personal cabinet (services.md §2.7)."""
    event = parse(envelope.type, envelope.data)
    assert isinstance(event, ResultSentToCentre)
    app = await load_application(conn, event.application_id)
    if app.status == READY_FOR_PICKUP and app.case_id == event.case_id:
        return  # the same result again
    place = _place(event.centre_id)
    now = clock.now()
    app.receive_result(
        case_id=event.case_id,
        outcome=event.outcome,
        record_number=event.record_number,
        at=now,
        pickup_place=place,
        refusal_reason=event.refusal_reason,
        result_documents=event.result_documents,
    )
    if event.refusal_reason is not None:
        app.notify_cabinet(
            kind="refused",
            text=f"Мотивированный отказ: {event.refusal_reason}. Ответ можно получить: {place}",
            at=now,
            refusal_reason=event.refusal_reason,
        )
    else:
        app.notify_cabinet(kind="result_ready", text=f"Результат готов к выдаче: {place}", at=now)
    await save_application(conn, app, ctx, now)


async def on_date_assigned(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    """The office assigned the registration date: the portal applicant sees it in the personal cabinet
    (S002/App.2 p.5(4); services.md §2.7)."""
    event = parse(envelope.type, envelope.data)
    assert isinstance(event, RegistrationDateAssigned)
    if event.application_id is None or event.channel != "portal":
        return
    app = await load_application(conn, event.application_id)
    when = event.registration_on.strftime("%d.%m.%Y")
    app.notify_cabinet(
        kind="date_assigned",
        text=f"{DATE_WORDS.get(event.date_kind or '', DATE_WORDS['date_of_registration'])}: {when}",
        at=event.assigned_at,
        registration_on=event.registration_on,
    )
    await save_application(conn, app, ctx, clock.now())
