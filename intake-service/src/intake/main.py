"""Composition root of the intake service."""

import functools

from fastapi import FastAPI

from btkernel import clock
from btkernel.history.api import audit_router
from btkernel.loops import Periodic
from btkernel.service import ConsumerSpec, Runtime, create_app
from civreg import topics
from civreg.events.case import RegistrationDateAssigned, ResultSentToCentre
from civreg.policy import POLICY
from intake.adapters.unit_of_work import PgIntakeUnitOfWork
from intake.api import applications, centre_storage, documents, duty, portal, services, subscriptions
from intake.api import home_visits as home_visit_api
from intake.api import queue as queue_api
from intake.app.storage_sweep import sweep
from intake.documents import fonts
from intake.documents.settings import DocumentSettings
from intake.documents.use_cases import Verifier
from intake.settings import IntakeSettings


def build_app(settings: IntakeSettings, printing: DocumentSettings | None = None) -> FastAPI:
    print_settings = printing or DocumentSettings()

    async def on_start(rt: Runtime) -> None:
        # A missing font stops the start, not the first receipt an operator prints (intake.documents.fonts).
        fonts.load(print_settings.document_font, print_settings.document_font_bold)
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
            documents.router,
            centre_storage.router,
            portal.router,
            services.router,
            duty.router,  # the state duty quoted before acceptance (ADR 0034)
            queue_api.router,  # the queue at the counter and its standards (S004 p.4, p.8; ADR 0037)
            home_visit_api.router,  # home visits requested through 1414 (S004 p.13)
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
            # Complaints sent through the portal, in the personal cabinet (S004 p.11, ADR 0035).
            ConsumerSpec(
                group="intake.complaints",
                topics=[topics.COMPLAINT],
                handler=subscriptions.on_complaint_event,
                event_types=subscriptions.COMPLAINT_TYPES,
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
    # Batched: a command's new streams, its `applications` row and its Idempotency-Key answer are sent in one
    # round trip at the commit (btkernel.unit_of_work; issue 13).
    app.state.unit_of_work = functools.partial(PgIntakeUnitOfWork, batched=True)
    # The QR of every printed document leads to the gateway's public verification page (ADR 0033).
    app.state.document_verifier = Verifier(print_settings.public_url, print_settings.code_secrets)
    return app


app = build_app(IntakeSettings())
