"""Composition root of the intake service."""

from fastapi import FastAPI

from btkernel import clock
from btkernel.history.api import audit_router
from btkernel.loops import Periodic
from btkernel.service import ConsumerSpec, Runtime, create_app
from civreg import topics
from civreg.events.case import RegistrationDateAssigned, ResultSentToCentre
from civreg.policy import POLICY
from intake.adapters.unit_of_work import PgIntakeUnitOfWork
from intake.api import applications, centre_storage, portal, services, subscriptions
from intake.app.storage_sweep import sweep
from intake.settings import IntakeSettings


def build_app(settings: IntakeSettings) -> FastAPI:
    async def on_start(rt: Runtime) -> None:
        if settings.storage_sweep_enabled:

            async def sweep_now() -> None:
                await sweep(lambda: PgIntakeUnitOfWork(rt.pool), clock.now())

            sweeper = Periodic("storage-sweep", sweep_now, settings.storage_sweep_interval_s)
            sweeper.start()
            rt.extras["sweeper"] = sweeper

    async def on_stop(rt: Runtime) -> None:
        if sweeper := rt.extras.get("sweeper"):
            await sweeper.stop()

    app = create_app(
        settings=settings,
        title="Bir Tereze intake service",
        description="Applications at service centres: receipts, refusal receipts, results and hand-over.",
        migrations="intake.migrations",
        policy=POLICY,  # who may call each route: civil registration's table (ADR 0014, ADR 0020)
        routers=[
            applications.router,
            centre_storage.router,
            portal.router,
            services.router,
            # The supervisor's view of who read which applications (ADR 0030).
            audit_router("/api/v1/audit/applications"),
        ],
        consumers=[
            ConsumerSpec(
                group="intake.results",
                topics=[topics.CASE],
                handler=subscriptions.on_result_sent,
                event_types=[ResultSentToCentre.TYPE],
            ),
            ConsumerSpec(
                group="intake.cabinet",
                topics=[topics.CASE],
                handler=subscriptions.on_date_assigned,
                event_types=[RegistrationDateAssigned.TYPE],
            ),
            # The register as far as a submission needs it (ADR 0012).
            ConsumerSpec(
                group="intake.records",
                topics=[topics.RECORD],
                handler=subscriptions.on_record_event,
                event_types=subscriptions.RECORD_TYPES,
            ),
        ],
        on_start=on_start,
        on_stop=on_stop,
    )
    # The one place the routers' units of work come from (intake.api.deps).
    app.state.unit_of_work = PgIntakeUnitOfWork
    return app


app = build_app(IntakeSettings())
