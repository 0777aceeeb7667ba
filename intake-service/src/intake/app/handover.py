"""Hand-over of a result at the centre, and receipt of a result (or of an assigned date) from the registry office."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from btkernel.context import Actor, RequestContext
from btkernel.errors import NotFound
from civreg import sites
from civreg.events.case import RegistrationDateAssigned, ResultSentToCentre
from intake.app.applications import load_application, save_application
from intake.app.unit_of_work import ApplicationRow, IntakeUnitOfWork
from intake.domain import visibility
from intake.domain.application import READY_FOR_PICKUP

# How the personal cabinet words each kind of assigned date (services.md §2.7).
DATE_WORDS = {
    "date_of_registration": "Назначена дата государственной регистрации",
    "date_of_issue": "Назначена дата выдачи результата",
    "time_of_issue": "Назначено время выдачи результата (дата)",
    "date_of_restoration": "Назначена дата восстановления записи",
    "date_of_annulment": "Назначена дата аннулирования записи",
}


@dataclass(frozen=True)
class HandOver:
    """Hand the result over against the receipt and an identity document (S002 p.9)."""

    application_id: str
    receipt_number: str
    identity_document_iin: str
    actor: Actor
    ctx: RequestContext
    now: dt.datetime
    recipient: Literal["applicant", "representative"] = "applicant"


async def visible_row(uow: IntakeUnitOfWork, application_id: str, actor: Actor) -> ApplicationRow:
    """The application as `actor` may see it. Not found rather than forbidden, so ids of other sites leak
    nothing."""
    row = await uow.applications.get(application_id)
    if row is None or not row.seen_by(actor):
        raise NotFound(f"no application {application_id} at your site")
    return row


async def hand_over(cmd: HandOver, uow: IntakeUnitOfWork) -> ApplicationRow:
    async with uow:
        row = await visible_row(uow, cmd.application_id, cmd.actor)
        if not visibility.result_is_handed_over_where_it_waits(cmd.actor, centre_id=row.centre_id):
            raise NotFound(f"the result of application {cmd.application_id} is not handed over at your site")
        app = await load_application(uow, cmd.application_id)
        app.hand_over(
            receipt_number=cmd.receipt_number,
            presented_iin=cmd.identity_document_iin,
            recipient=cmd.recipient,
            operator_id=cmd.actor.id,
            operator_name=cmd.actor.name,
            at=cmd.now,
        )
        await save_application(uow, app, cmd.ctx)
        updated = await uow.applications.get(cmd.application_id)
        await uow.commit()
    assert updated is not None
    return updated


def _place(site_id: str) -> str:
    reference = sites.load()
    site = reference.centre(site_id) or reference.office(site_id)
    return f"{site.name.ru}, {site.address}" if site else site_id


async def receive_result(
    event: ResultSentToCentre, ctx: RequestContext, now: dt.datetime, uow: IntakeUnitOfWork
) -> None:
    """The registry office sent a result (or its reasoned refusal) to where the application was accepted: the
    application becomes ready for pickup; a portal applicant is told in the personal cabinet (services.md §2.7)."""
    async with uow:
        app = await load_application(uow, event.application_id)
        if app.status == READY_FOR_PICKUP and app.case_id == event.case_id:
            return  # the same result again
        place = _place(event.centre_id)
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
        await save_application(uow, app, ctx)
        await uow.commit()


async def tell_date_assigned(
    event: RegistrationDateAssigned, ctx: RequestContext, now: dt.datetime, uow: IntakeUnitOfWork
) -> None:
    """The office assigned the registration date: the portal applicant sees it in the personal cabinet
    (S002/App.2 p.5(4); services.md §2.7)."""
    if event.application_id is None or event.channel != "portal":
        return
    async with uow:
        app = await load_application(uow, event.application_id)
        when = event.registration_on.strftime("%d.%m.%Y")
        app.notify_cabinet(
            kind="date_assigned",
            text=f"{DATE_WORDS.get(event.date_kind or '', DATE_WORDS['date_of_registration'])}: {when}",
            at=event.assigned_at,
            registration_on=event.registration_on,
        )
        await save_application(uow, app, ctx)
        await uow.commit()
