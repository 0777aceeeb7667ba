"""Composition root of the fee service (ASGI app `fees.main:app`): the one place where the use cases meet their
adapters."""

from __future__ import annotations

from fastapi import FastAPI

from btkernel.service import ConsumerSpec, create_app
from civreg import topics
from civreg.policy import POLICY
from fees.adapters.consumer import on_application_event
from fees.api import fees
from fees.app import assess
from fees.settings import FeeSettings


def build(settings: FeeSettings) -> FastAPI:
    return create_app(
        settings=settings,
        title="Bir Tereze — fees",
        description="Decides the state duty due for each submitted application from the service catalogue and "
        "the dated MRP table, announces it as FeeAssessed and answers what was decided.",
        migrations="fees.migrations",
        policy=POLICY,  # who may call each route: civil registration's table (ADR 0014, ADR 0020)
        routers=[fees.router],
        consumers=[
            ConsumerSpec(
                group=assess.GROUP,
                topics=[topics.APPLICATION],
                handler=on_application_event,
                event_types=assess.EVENT_TYPES,
            )
        ],
    )


app = build(FeeSettings())
