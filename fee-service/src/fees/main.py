"""Composition root of the fee service (ASGI app `fees.main:app`): the one place where the use cases meet their
adapters."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI

from btkernel import clock
from btkernel.loops import Periodic
from btkernel.service import ConsumerSpec, Runtime, create_app
from civreg import topics
from civreg.policy import POLICY
from fees.adapters.consumer import on_application_event
from fees.adapters.payment_gateway import PaymentGatewayClient
from fees.adapters.payments import PgPendingPayments
from fees.api import fees, payments, reconciliation
from fees.app import assess
from fees.app.lost_callbacks import resolve_lost_callbacks
from fees.settings import FeeSettings


def build(settings: FeeSettings) -> FastAPI:
    # The e-government payment gateway (ADR 0034): one client per process, the deployment's key.
    gateway = PaymentGatewayClient(
        settings.payment_gateway_url,
        settings.payment_gateway_merchant,
        settings.payment_gateway_secret.encode(),
        settings.payment_callback_url,
        timeout_s=settings.payment_gateway_timeout_s,
    )

    async def on_start(rt: Runtime) -> None:
        # Lost callbacks resolve themselves: payments still `created` are asked about at the gateway (ADR 0034).
        if not gateway.configured or settings.payment_status_interval_s <= 0:
            return
        pending = PgPendingPayments(
            rt.pool,
            first_after=dt.timedelta(seconds=settings.payment_status_after_s),
            max_pause=dt.timedelta(seconds=settings.payment_status_max_pause_s),
            give_up=dt.timedelta(seconds=settings.payment_status_give_up_s),
            batch=settings.payment_status_batch,
        )

        async def round_now() -> int:
            return await resolve_lost_callbacks(pending, gateway, clock.now())

        sweep = Periodic(
            "payment-status-sweep",
            round_now,
            settings.payment_status_interval_s,
            busy=lambda asked: bool(asked >= settings.payment_status_batch),
            error_event="payment_status_sweep_failed",
        )
        sweep.start()
        rt.extras["payment_status_sweep"] = sweep

    async def on_stop(rt: Runtime) -> None:
        if sweep := rt.extras.get("payment_status_sweep"):
            await sweep.stop()

    app = create_app(
        settings=settings,
        title="Bir Tereze — fees",
        description="Decides the state duty due for each submitted application from the shared tariff "
        "(civreg.duty), announces it as FeeAssessed, takes payments through the e-government payment gateway and "
        "banks, and reconciles bank statements.",
        migrations="fees.migrations",
        policy=POLICY,  # who may call each route: civil registration's table (ADR 0014, ADR 0020)
        routers=[
            fees.router,
            payments.router,
            payments.bank_router,
            payments.callback_router,
            reconciliation.router,
        ],
        consumers=[
            ConsumerSpec(
                group=assess.GROUP,
                topics=[topics.APPLICATION],
                handler=on_application_event,
                event_types=assess.EVENT_TYPES,
            )
        ],
        on_start=on_start,
        on_stop=on_stop,
    )
    app.state.payment_gateway = gateway
    app.state.statement_max_bytes = settings.statement_max_bytes
    return app


app = build(FeeSettings())
