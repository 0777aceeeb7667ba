"""Composition root of the notification service (ASGI app `notification.main:app`): the one place where the use
cases meet their adapters."""

from __future__ import annotations

from fastapi import FastAPI

from btkernel.history.api import audit_router
from btkernel.loops import Periodic
from btkernel.service import ConsumerSpec, Runtime, create_app
from civreg import topics
from civreg.policy import POLICY
from notification.adapters.consumer import on_complaint_event, on_event
from notification.adapters.sms_http import SmsHttpSender
from notification.adapters.smtp import SmtpMailer
from notification.adapters.store import PgTransactions
from notification.adapters.worker import delivery_worker, sms_status_worker
from notification.api import notifications, sms_reports
from notification.app import complaints, projection
from notification.app.delivery import Delivery
from notification.app.sms_status import StatusChecks
from notification.domain.delivery import RetryPolicy
from notification.domain.sms_status import StatusPolicy
from notification.settings import NotificationSettings


def build(settings: NotificationSettings) -> FastAPI:
    policy = RetryPolicy(
        max_attempts=settings.delivery_max_attempts,
        backoff_s=settings.delivery_backoff_s,
        backoff_max_s=settings.delivery_backoff_max_s,
        lease_s=settings.delivery_lease_s,
    )
    status_policy = StatusPolicy(
        first_after_s=settings.sms_status_after_s,
        max_interval_s=settings.sms_status_max_interval_s,
        give_up_after_s=settings.sms_status_give_up_after_s,
    )
    actor = f"system:{settings.service_name}"

    async def start_delivery(rt: Runtime) -> None:
        if not settings.delivery_enabled:
            return
        sms = (
            SmsHttpSender(
                settings.sms_provider_url,
                settings.sms_api_key,
                sender=settings.sms_sender,
                timeout_s=settings.sms_timeout_s,
            )
            if settings.sms_provider_url
            else None
        )
        delivery = Delivery(
            PgTransactions(rt.pool),
            SmtpMailer(settings.smtp_host, settings.smtp_port, timeout_s=settings.smtp_timeout_s),
            sender=settings.smtp_from,
            policy=policy,
            batch_size=settings.delivery_batch_size,
            actor=actor,
            sms=sms,
        )
        worker = delivery_worker(delivery, poll_interval_s=settings.delivery_poll_interval_s)
        worker.start()
        rt.extras["delivery"] = worker
        if sms is not None:
            # The SMS whose delivery report never came (ADR 0038, "Lost reports").
            checks = StatusChecks(
                PgTransactions(rt.pool),
                sms,
                policy=status_policy,
                retry=policy,
                batch_size=settings.delivery_batch_size,
                actor=actor,
            )
            status_worker = sms_status_worker(checks, poll_interval_s=settings.sms_status_poll_interval_s)
            status_worker.start()
            rt.extras["sms_status"] = status_worker

    async def stop_delivery(rt: Runtime) -> None:
        for name in ("sms_status", "delivery"):
            worker = rt.extras.get(name)
            if isinstance(worker, Periodic):
                await worker.stop()

    return create_app(
        settings=settings,
        title="Bir Tereze — notifications",
        description="Tells applicants by e-mail (Russian and Kazakh) that their result is ready for pickup or "
        "that their package was refused, and keeps the delivery log of every message.",
        migrations="notification.migrations",
        policy=POLICY,  # who may call each route: civil registration's table (ADR 0014, ADR 0020)
        routers=[
            notifications.router,
            # The supervisor's view of who read whose delivery log (ADR 0030).
            audit_router("/api/v1/audit/notifications"),
            # The SMS provider's signed delivery reports (ADR 0038): outside /api/, authenticated by the signature.
            sms_reports.router(settings.sms_report_key, policy, actor=actor),
        ],
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
            # The answer to a complaint, by mail (S004 p.11, ADR 0035).
            ConsumerSpec(
                group=complaints.GROUP,
                topics=[topics.COMPLAINT],
                handler=on_complaint_event,
                event_types=complaints.EVENT_TYPES,
            ),
        ],
        on_start=start_delivery,
        on_stop=stop_delivery,
    )


app = build(NotificationSettings())
