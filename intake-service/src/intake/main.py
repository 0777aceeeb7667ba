"""Composition root of the intake service."""

from fastapi import FastAPI

from btkernel import topics
from btkernel.events.case import RegistrationDateAssigned, ResultSentToCentre
from btkernel.service import ConsumerSpec, create_app
from btkernel.settings import ServiceSettings
from intake.api import applications, centre_storage, portal, services
from intake.app.handover import on_case_event, on_date_assigned


def build_app(settings: ServiceSettings) -> FastAPI:
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
        ],
    )


app = build_app(ServiceSettings(service_name="intake"))
