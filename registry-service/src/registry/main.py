"""Composition root of the registry service: the PostgreSQL unit of work, the staff directory, the routers, the
consumers and the deadline scheduler, wired once here."""

from fastapi import FastAPI

from btkernel import clock
from btkernel.service import ConsumerSpec, Runtime, create_app
from civreg import topics
from civreg.policy import POLICY
from registry.adapters import staff as staff_directory
from registry.adapters.unit_of_work import PgRegistryUnitOfWork
from registry.api import calendar, case_decisions, cases, deadlines, records, subscriptions
from registry.app import deadline_scheduler
from registry.app.staff import StaffDirectory
from registry.settings import RegistrySettings


def build_app(settings: RegistrySettings, staff: StaffDirectory | None = None) -> FastAPI:
    """`staff` replaces the gateway's staff directory (tests)."""
    directory = staff or staff_directory.from_settings(settings.gateway_url, settings.env)

    async def on_start(rt: Runtime) -> None:
        if settings.scheduler_enabled:
            scheduler = deadline_scheduler.scheduler(
                lambda: PgRegistryUnitOfWork(rt.pool),
                clock=clock.now,
                interval_s=settings.scheduler_interval_s,
            )
            scheduler.start()
            rt.extras["scheduler"] = scheduler

    async def on_stop(rt: Runtime) -> None:
        if scheduler := rt.extras.get("scheduler"):
            await scheduler.stop()

    app = create_app(
        settings=settings,
        title="Bir Tereze registry service",
        description="Registry-office cases, civil-status records, review deadlines and worklists.",
        migrations="registry.migrations",
        policy=POLICY,  # who may call each route: civil registration's table (ADR 0014, ADR 0020)
        routers=[
            cases.router,
            case_decisions.router,
            records.router,
            deadlines.router,
            calendar.router,
        ],
        consumers=[
            ConsumerSpec(
                group="registry.cases",
                topics=[topics.APPLICATION],
                handler=subscriptions.on_application_forwarded,
                event_types=subscriptions.APPLICATION_TYPES,
            ),
            # Deadlines follow the case's own events, published through the outbox like any other consumer's.
            ConsumerSpec(
                group="registry.deadlines",
                topics=[topics.CASE],
                handler=subscriptions.on_case_event,
                event_types=subscriptions.CASE_TYPES,
            ),
            ConsumerSpec(
                group="registry.notices",
                topics=[topics.NOTIFICATION],
                handler=subscriptions.on_notification_event,
                event_types=subscriptions.NOTIFICATION_TYPES,
            ),
        ],
        on_start=on_start,
        on_stop=on_stop,
    )
    app.state.staff = directory
    # One unit of work per request, on the service's pool (registry.api.deps).
    app.state.unit_of_work = PgRegistryUnitOfWork
    return app


app = build_app(RegistrySettings())
