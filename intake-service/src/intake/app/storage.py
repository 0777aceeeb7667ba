"""Results waiting at a centre: kept one month, then returned to the registry office; a later request recalls them
within one working day (S004 p.9). The time-driven trigger is the sweep's (`intake.app.storage_sweep`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from btkernel.context import Actor, RequestContext
from civreg.terms import KZ_CALENDAR
from intake.app.applications import load_application, save_application
from intake.app.handover import visible_row
from intake.app.unit_of_work import ApplicationRow, IntakeUnitOfWork
from intake.domain.application import Application
from workcal import REGISTRY_OFFICE, Term, due

RECALL_TERM = Term(value=1, unit="working_days", acceptance_day_counted=False, source="S004 p.9")


def recall_due(at: dt.datetime) -> dt.datetime:
    """Within one working day of the request, counted in the registry office's days (S004 p.9)."""
    return due(at, RECALL_TERM, REGISTRY_OFFICE, KZ_CALENDAR)


@dataclass(frozen=True)
class StorageStep:
    """A step of the centre's storage on one application, by the operator of the centre."""

    application_id: str
    actor: Actor
    ctx: RequestContext
    now: dt.datetime


async def _act(
    cmd: StorageStep, uow: IntakeUnitOfWork, step: Callable[[Application], None]
) -> ApplicationRow:
    async with uow:
        await visible_row(uow, cmd.application_id, cmd.actor)
        app = await load_application(uow, cmd.application_id)
        step(app)
        await save_application(uow, app, cmd.ctx)
        row = await uow.applications.get(cmd.application_id)
        await uow.commit()
    assert row is not None
    return row


async def return_to_registry(cmd: StorageStep, uow: IntakeUnitOfWork) -> ApplicationRow:
    """An uncollected result, kept one month, goes to the registry office (S004 p.9)."""
    return await _act(cmd, uow, lambda a: a.return_to_registry(by=cmd.actor.id, at=cmd.now))


async def request_recall(cmd: StorageStep, uow: IntakeUnitOfWork) -> ApplicationRow:
    """The applicant came later: the office is asked for the result, due within one working day (S004 p.9)."""
    return await _act(
        cmd, uow, lambda a: a.request_recall(by=cmd.actor.id, at=cmd.now, due_at=recall_due(cmd.now))
    )


async def receive_recalled(cmd: StorageStep, uow: IntakeUnitOfWork) -> ApplicationRow:
    """The recalled result is back at the centre, ready for pickup again."""
    return await _act(cmd, uow, lambda a: a.receive_recalled(by=cmd.actor.id, at=cmd.now))
