"""Composition root of the intake service."""

from fastapi import FastAPI

from btkernel import clock, topics
from btkernel.events.case import RegistrationDateAssigned, ResultSentToCentre
from btkernel.service import ConsumerSpec, Runtime, create_app
from intake.api import applications, centre_storage, portal, services
from intake.app import known_records
from intake.app.handover import on_case_event, on_date_assigned
from intake.app.storage_sweep import storage_sweeper
from intake.settings import IntakeSettings


def build_app(settings: IntakeSettings) -> FastAPI:
    async def on_start(rt: Runtime) -> None:
        if settings.storage_sweep_enabled:
            sweeper = storage_sweeper(rt.pool, clock.now, settings.storage_sweep_interval_s)
            sweeper.start()
            rt.extras["sweeper"] = sweeper

    async def on_stop(rt: Runtime) -> None:
        if sweeper := rt.extras.get("sweeper"):
            await sweeper.stop()

    return create_app(
        settings=settings,
        title="Bir Tereze intake service",
        description="Applications at service centres: receipts, refusal receipts, results and hand-over.",
        migrations="intake.migrations",
        routers=[applications.router, centre_storage.router, portal.router, services.router],
        consumers=[
            ConsumerSpec(
                group="intake.results",
                topics=[topics.CASE],
                handler=on_case_event,
                event_types=[ResultSentToCentre.TYPE],
            ),
            ConsumerSpec(
                group="intake.cabinet",
                topics=[topics.CASE],
                handler=on_date_assigned,
                event_types=[RegistrationDateAssigned.TYPE],
            ),
            # The register as far as a submission needs it (ADR 0012).
            ConsumerSpec(
                group="intake.records",
                topics=[topics.RECORD],
                handler=known_records.on_record_event,
                event_types=known_records.HANDLED_TYPES,
            ),
        ],
        on_start=on_start,
        on_stop=on_stop,
    )


app = build_app(IntakeSettings())
