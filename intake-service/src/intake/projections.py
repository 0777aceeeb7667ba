"""Intake's projections that `python -m btkernel.rebuild intake.projections <name>` rebuilds from the history
(ADR 27), each by the code the live path runs.

The `applications` read model is here since its commands stamp it with their last event's moment
(`intake.app.applications.save_application`), not their clock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import cast

import asyncpg

from btkernel.events.base import Event
from btkernel.eventstore import StoredEvent
from btkernel.rebuild import ConsumedEvents, OwnStreams, Projection
from intake.adapters.known_records_batch import KnownRecordsBatch, LearningUnitOfWork
from intake.adapters.unit_of_work import PgIntakeUnitOfWork
from intake.api import subscriptions
from intake.app import known_records
from intake.app.applications import application_row, project_cabinet
from intake.app.unit_of_work import IntakeUnitOfWork
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


async def replay_application(conn: asyncpg.Connection, events: Sequence[StoredEvent], done: int) -> None:
    """The application's row after all its events, as the submission inserts it and every later command updates
    it: the folded state, the opening event's facts, the last event's moment."""
    app = Application.fold(events[0].stream_id, [s.event() for s in events])
    uow = PgIntakeUnitOfWork.on(conn)
    async with uow:
        if done == 0:
            await uow.applications.insert(application_row(app, events[0].event(), events[-1].recorded_at))
        else:
            await uow.applications.update_from(app, events[-1].recorded_at)
        await uow.commit()


async def learn_many(conn: asyncpg.Connection, events: Iterator[Event]) -> None:
    """The batch entry point (ADR 0027, "Batches"): what `subscriptions.on_record_event` does with each event —
    `known_records.learn` of the event — told to `KnownRecordsBatch`, which writes the batch at once."""
    batch = KnownRecordsBatch()
    # `learn` needs only the known records of a unit of work; the replay's transaction is the caller's.
    uow = cast(IntakeUnitOfWork, LearningUnitOfWork(batch))
    for event in events:
        await known_records.learn(event, uow)
    await batch.write(conn)


PROJECTIONS = (
    Projection(
        name="known_records",
        description="what intake knows of the register (ADR 12), from the civreg.record events it consumed",
        tables=("known_records",),
        source=ConsumedEvents(
            "intake.records",
            subscriptions.on_record_event,
            IntakeSettings.model_fields["service_name"].default,
            apply_many=learn_many,
        ),
        defer_indexes=True,
    ),
    Projection(
        name="cabinet_complaint_notifications",
        description="the personal cabinet's view of portal complaints (ADR 0035), from the civreg.complaint events",
        tables=("cabinet_complaint_notifications",),
        source=ConsumedEvents(
            "intake.complaints",
            subscriptions.on_complaint_event,
            IntakeSettings.model_fields["service_name"].default,
        ),
    ),
    Projection(
        name="cabinet_notifications",
        description="the personal cabinet's notifications of portal applications, from the application streams",
        tables=("cabinet_notifications",),
        source=OwnStreams((Application.STREAM_TYPE,), replay_cabinet),
    ),
    Projection(
        name="applications",
        description="the applications list and status page, from the application streams",
        tables=("applications",),
        source=OwnStreams((Application.STREAM_TYPE,), replay_application),
    ),
)
