"""Loading and saving the application aggregate in a unit of work, with the read models its events feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from btkernel.context import RequestContext
from btkernel.errors import NotFound
from btkernel.events.base import Event
from civreg.events.application import ApplicationCabinetNotified
from intake.app.unit_of_work import IntakeUnitOfWork
from intake.domain.application import Application

SOURCE = "/intake"


async def load_application(uow: IntakeUnitOfWork, application_id: str) -> Application:
    app = await uow.events.load_aggregate(Application, application_id)
    if app is None:
        raise NotFound(f"no application {application_id}")
    return app


async def save_application(
    uow: IntakeUnitOfWork, app: Application, ctx: RequestContext, now: dt.datetime
) -> None:
    """Append the pending events (optimistic concurrency) and bring the read models up to date with them."""
    base, pending = app.expected_version, list(app.pending)
    await uow.events.save(app, ctx, SOURCE)
    await project_cabinet(uow, app, pending, base)
    await uow.applications.update_from(app, now)


async def project_cabinet(
    uow: IntakeUnitOfWork, app: Application, pending: Sequence[Event], base: int
) -> None:
    """The personal-cabinet notifications among the events just appended after version `base`."""
    for i, event in enumerate(pending, start=1):
        if isinstance(event, ApplicationCabinetNotified):
            await uow.cabinet.add(app.id, base + i, event)
