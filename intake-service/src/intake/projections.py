"""Intake's projections that `python -m btkernel.rebuild intake.projections <name>` rebuilds from the history
(ADR 27), each by the code the live path runs.

Not here yet (ADR 27): the `applications` read model, written by the commands from their own moment and the
receipt counter beside the events.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from btkernel.eventstore import StoredEvent
from btkernel.rebuild import ConsumedEvents, OwnStreams, Projection
from intake.adapters.unit_of_work import PgIntakeUnitOfWork
from intake.api import subscriptions
from intake.app.applications import project_cabinet
from intake.domain.application import Application
from intake.settings import IntakeSettings


async def replay_cabinet(conn: asyncpg.Connection, events: Sequence[StoredEvent], done: int) -> None:
    """The cabinet notifications among an application's events after the first `done`, as `save_application`
    writes them."""
    app = Application.fold(events[0].stream_id, [s.event() for s in events])
    uow = PgIntakeUnitOfWork.on(conn)
    async with uow:
        await project_cabinet(uow, app, [s.event() for s in events[done:]], done)
        await uow.commit()


PROJECTIONS = (
    Projection(
        name="known_records",
        description="what intake knows of the register (ADR 12), from the civreg.record events it consumed",
        tables=("known_records",),
        source=ConsumedEvents(
            "intake.records",
            subscriptions.on_record_event,
            IntakeSettings.model_fields["service_name"].default,
        ),
    ),
    Projection(
        name="cabinet_notifications",
        description="the personal cabinet's notifications of portal applications, from the application streams",
        tables=("cabinet_notifications",),
        source=OwnStreams((Application.STREAM_TYPE,), replay_cabinet),
    ),
)
