"""Composition root of the intake service."""

from fastapi import FastAPI

from btkernel import topics
from btkernel.events.case import ResultSentToCentre
from btkernel.service import ConsumerSpec, create_app
from btkernel.settings import ServiceSettings
from intake.api import applications, services
from intake.app.handover import on_case_event


def build_app(settings: ServiceSettings) -> FastAPI:
    return create_app(
        settings=settings,
        title="Bir Tereze intake service",
        description="Applications at service centres: receipts, refusal receipts, results and hand-over.",
        migrations="intake.migrations",
        routers=[applications.router, services.router],
        consumers=[
            ConsumerSpec(
                group="intake.results",
                topics=[topics.CASE],
                handler=on_case_event,
                event_types=[ResultSentToCentre.TYPE],
            )
        ],
    )


app = build_app(ServiceSettings(service_name="intake"))
