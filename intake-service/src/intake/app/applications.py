"""Loading and saving the application aggregate in a unit of work, with the read models its events feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from btkernel.context import RequestContext
from btkernel.errors import NotFound
from btkernel.events.base import Event
from civreg.events.application import (
    ApplicationAcceptanceRefused,
    ApplicationCabinetNotified,
    ApplicationSubmitted,
)
from intake.app.unit_of_work import ApplicationRow, IntakeUnitOfWork
from intake.domain.application import Application

SOURCE = "/intake"


async def load_application(uow: IntakeUnitOfWork, application_id: str) -> Application:
    app = await uow.events.load_aggregate(Application, application_id)
    if app is None:
        raise NotFound(f"no application {application_id}")
    return app


async def save_application(uow: IntakeUnitOfWork, app: Application, ctx: RequestContext) -> None:
    """Append the pending events (optimistic concurrency) and bring the read models up to date with them."""
    base, pending = app.expected_version, list(app.pending)
    appended = await uow.events.save(app, ctx, SOURCE)
    await project_cabinet(uow, app, pending, base)
    if appended:
        # The moment of the last event, not the command's clock: a rebuild from the events writes the same row
        # (ADR 0027). Nothing appended, nothing happened, and the row stays as it is.
        await uow.applications.update_from(app, appended[-1].time)


def application_row(app: Application, opening: Event, at: dt.datetime) -> ApplicationRow:
    """The `applications` row of `app` folded up to an event recorded at `at`; `opening` is its stream's first event
    (the submission or the refusal of acceptance), whose facts never change. The submission writes it, the rebuild
    (`intake.projections`) too; later events change only what `update_from` writes."""
    if isinstance(opening, ApplicationSubmitted):
        submitted_at, office = opening.submitted_at, opening.registry_office_id
        receipt, refusal = opening.receipt.model_dump(mode="json"), None
    elif isinstance(opening, ApplicationAcceptanceRefused):
        # A refused package goes to no registry office (point 9 of the Standard).
        submitted_at, office = opening.refused_at, None
        receipt, refusal = None, opening.refusal_receipt.model_dump(mode="json")
    else:
        raise ValueError(f"application {app.id} opens with {opening.TYPE}, not a submission")
    assert app.status is not None
    assert app.receipt_number is not None
    return ApplicationRow(
        application_id=app.id,
        centre_id=opening.centre_id,
        service_id=opening.service_id,
        channel=opening.channel,
        status=app.status,
        receipt_number=app.receipt_number,
        applicant_iin=opening.applicant.iin,
        applicant_name=opening.applicant.name.full(),
        registry_office_id=office,
        case_id=app.case_id,
        record_number=app.record_number,
        outcome=app.outcome,
        submitted_at=submitted_at,
        updated_at=at,
        receipt=receipt,
        refusal_receipt=refusal,
        result_received_at=app.received_at,
        refusal_reason=app.refusal_reason,
        recall_due_at=app.recall_due_at,
    )


async def project_cabinet(
    uow: IntakeUnitOfWork, app: Application, pending: Sequence[Event], base: int
) -> None:
    """The personal-cabinet notifications among the events just appended after version `base`."""
    for i, event in enumerate(pending, start=1):
        if isinstance(event, ApplicationCabinetNotified):
            await uow.cabinet.add(app.id, base + i, event)
