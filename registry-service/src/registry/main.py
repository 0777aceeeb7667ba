"""Composition root of the registry service."""

from fastapi import FastAPI

from btkernel import clock, topics
from btkernel.events.application import ApplicationForwarded
from btkernel.service import ConsumerSpec, Runtime, create_app
from registry.adapters import staff as staff_directory
from registry.adapters.staff import StaffDirectory
from registry.api import case_decisions, cases, records
from registry.app.cases import on_application_event
from registry.deadlines import api as deadlines_api
from registry.deadlines import calendar_api, projector
from registry.deadlines import scheduler as deadline_scheduler
from registry.settings import RegistrySettings


def build_app(settings: RegistrySettings, staff: StaffDirectory | None = None) -> FastAPI:
    """`staff` replaces the gateway's staff directory (tests)."""
    directory = staff or staff_directory.from_settings(settings.gateway_url, settings.env)

    async def on_start(rt: Runtime) -> None:
        if settings.scheduler_enabled:
            scheduler = deadline_scheduler.scheduler(
                rt.pool, clock=clock.now, interval_s=settings.scheduler_interval_s
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
        routers=[
            cases.router,
            case_decisions.router,
            records.router,
            deadlines_api.router,
            calendar_api.router,
        ],
        consumers=[
            ConsumerSpec(
                group="registry.cases",
                topics=[topics.APPLICATION],
                handler=on_application_event,
                event_types=[ApplicationForwarded.TYPE],
            ),
            # Deadlines follow the case's own events, published through the outbox like any other consumer's.
            ConsumerSpec(
                group="registry.deadlines",
                topics=[topics.CASE],
                handler=projector.on_case_event,
                event_types=projector.HANDLED_TYPES,
            ),
            ConsumerSpec(
                group="registry.notices",
                topics=[topics.NOTIFICATION],
                handler=projector.on_notification_event,
                event_types=projector.NOTIFICATION_TYPES,
            ),
        ],
        on_start=on_start,
        on_stop=on_stop,
    )
    app.state.staff = directory
    return app


app = build_app(RegistrySettings())
