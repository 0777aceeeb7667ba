"""What the API shows of applications, each as the asking site may see it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.context import Actor
from civreg.policy import Role
from intake.app.handover import visible_row
from intake.app.unit_of_work import ApplicationFilter, ApplicationRow, IntakeUnitOfWork


async def list_applications(
    actor: Actor,
    uow: IntakeUnitOfWork,
    *,
    status: str | None = None,
    applicant_iin: str | None = None,
    receipt_number: str | None = None,
    limit: int = 100,
) -> list[ApplicationRow]:
    """Newest first: a site's own (accepted there or sent to it), the portal's, or all for a supervisor."""
    where = ApplicationFilter(
        site=actor.site if actor.role not in (Role.SUPERVISOR, Role.PORTAL) else None,
        status=status,
        applicant_iin=applicant_iin,
        receipt_number=receipt_number,
        channel="portal" if actor.role == Role.PORTAL else None,
        limit=limit,
    )
    async with uow:
        rows = await uow.applications.find(where)
    return [r for r in rows if r.seen_by(actor)]


async def get_application(actor: Actor, application_id: str, uow: IntakeUnitOfWork) -> ApplicationRow:
    async with uow:
        return await visible_row(uow, application_id, actor)


async def timeline(actor: Actor, application_id: str, uow: IntakeUnitOfWork) -> list[dict[str, Any]]:
    """Every event of the application, oldest first."""
    async with uow:
        await visible_row(uow, application_id, actor)
        events = await uow.events.load(application_id)
    return [e.history_entry() for e in events]


async def cabinet_notifications(
    uow: IntakeUnitOfWork,
    *,
    application_id: str | None,
    since: dt.datetime | None,
    limit: int,
    complaint_id: str | None = None,
) -> list[dict[str, Any]]:
    async with uow:
        return await uow.cabinet.notifications(application_id, since, limit, complaint_id)
