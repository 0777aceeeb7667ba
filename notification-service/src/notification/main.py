"""Composition root of the notification service (ASGI app `notification.main:app`): the one place where the use
cases meet their adapters."""

from __future__ import annotations

from fastapi import FastAPI

from btkernel.loops import Periodic
from btkernel.service import ConsumerSpec, Runtime, create_app
from civreg import topics
from civreg.policy import POLICY
from notification.adapters.consumer import on_event
from notification.adapters.smtp import SmtpMailer
from notification.adapters.store import PgTransactions
from notification.adapters.worker import delivery_worker
from notification.api import notifications
from notification.app import projection
from notification.app.delivery import Delivery
from notification.domain.delivery import RetryPolicy
from notification.settings import NotificationSettings


def build(settings: NotificationSettings) -> FastAPI:
    async def start_delivery(rt: Runtime) -> None:
        if not settings.delivery_enabled:
            return
        delivery = Delivery(
            PgTransactions(rt.pool),
            SmtpMailer(settings.smtp_host, settings.smtp_port, timeout_s=settings.smtp_timeout_s),
            sender=settings.smtp_from,
            policy=RetryPolicy(
                max_attempts=settings.delivery_max_attempts,
                backoff_s=settings.delivery_backoff_s,
                backoff_max_s=settings.delivery_backoff_max_s,
                lease_s=settings.delivery_lease_s,
            ),
            batch_size=settings.delivery_batch_size,
            actor=f"system:{settings.service_name}",
        )
        worker = delivery_worker(delivery, poll_interval_s=settings.delivery_poll_interval_s)
        worker.start()
        rt.extras["delivery"] = worker

    async def stop_delivery(rt: Runtime) -> None:
        worker = rt.extras.get("delivery")
        if isinstance(worker, Periodic):
            await worker.stop()

    return create_app(
        settings=settings,
        title="Bir Tereze — notifications",
        description="Tells applicants by e-mail (Russian and Kazakh) that their result is ready for pickup or "
        "that their package was refused, and keeps the delivery log of every message.",
        migrations="notification.migrations",
        policy=POLICY,  # who may call each route: civil registration's table (ADR 0014, ADR 0020)
        routers=[notifications.router],
        consumers=[
            ConsumerSpec(
                group=projection.GROUP,
                topics=[topics.APPLICATION],
                handler=on_event,
                event_types=projection.EVENT_TYPES,
            ),
            ConsumerSpec(
                group=projection.CASE_GROUP,
                topics=[topics.CASE],
                handler=on_event,
                event_types=projection.CASE_EVENT_TYPES,
            ),
        ],
        on_start=start_delivery,
        on_stop=stop_delivery,
    )


app = build(NotificationSettings())
