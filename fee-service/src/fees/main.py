"""Composition root of the fee service (ASGI app `fees.main:app`)."""

from __future__ import annotations

from fastapi import FastAPI

from btkernel import topics
from btkernel.service import ConsumerSpec, create_app
from fees import api, projection
from fees.settings import FeeSettings


def build(settings: FeeSettings) -> FastAPI:
    return create_app(
        settings=settings,
        title="Bir Tereze — fees",
        description="Decides the state duty due for each submitted application from the service catalogue and "
        "the dated MRP table, announces it as FeeAssessed and answers what was decided.",
        migrations="fees.migrations",
        routers=[api.router],
        consumers=[
            ConsumerSpec(
                group=projection.GROUP,
                topics=[topics.APPLICATION],
                handler=projection.handle,
                event_types=projection.EVENT_TYPES,
            )
        ],
    )


app = build(FeeSettings())
