"""Composition root of the registry service."""

from fastapi import FastAPI

from btkernel import topics
from btkernel.events.application import ApplicationForwarded
from btkernel.service import ConsumerSpec, create_app
from btkernel.settings import ServiceSettings
from registry.api import case_decisions, cases, records
from registry.app.cases import on_application_event


def build_app(settings: ServiceSettings) -> FastAPI:
    return create_app(
        settings=settings,
        title="Bir Tereze registry service",
        description="Registry-office cases, civil-status records, review deadlines and worklists.",
        migrations="registry.migrations",
        routers=[cases.router, case_decisions.router, records.router],
        consumers=[
            ConsumerSpec(
                group="registry.cases",
                topics=[topics.APPLICATION],
                handler=on_application_event,
                event_types=[ApplicationForwarded.TYPE],
            )
        ],
    )


app = build_app(ServiceSettings(service_name="registry"))
