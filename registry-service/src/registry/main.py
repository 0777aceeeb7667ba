"""Composition root of the registry service: the PostgreSQL unit of work, the staff directory, the routers, the
consumers and the deadline scheduler, wired once here."""

from pathlib import Path

from fastapi import FastAPI

from btkernel import clock, signing
from btkernel.health import Check
from btkernel.history.api import audit_router
from btkernel.kafka_client import client_options
from btkernel.service import ConsumerSpec, Runtime, create_app
from civreg import partners, topics
from civreg.partners.agency_services import answers_topic
from civreg.policy import POLICY
from registry.adapters import partner_kafka
from registry.adapters import staff as staff_directory
from registry.adapters.agency_requests import AgencyRequestSender
from registry.adapters.partner_feeds import AdvisoryLeadership, PgFeedStore
from registry.adapters.unit_of_work import PgRegistryUnitOfWork
from registry.api import calendar, case_decisions, cases, complaints, deadlines, records, subscriptions
from registry.app import deadline_scheduler
from registry.app.partner_feed import PartnerPublisher
from registry.app.staff import StaffDirectory
from registry.settings import RegistrySettings


def build_app(settings: RegistrySettings, staff: StaffDirectory | None = None) -> FastAPI:
    """`staff` replaces the gateway's staff directory (tests); there is no registry without one."""
    directory = staff or staff_directory.from_settings(settings.gateway_url, settings.env)
    # Requests to the agencies that decide services, signed with the platform's key (ADR 0040).
    key_file = settings.partner_signing_key_file
    sender = AgencyRequestSender(
        client_options(settings), signing.load_private_key(Path(key_file)) if key_file else None
    )

    async def on_start(rt: Runtime) -> None:
        if settings.scheduler_enabled:
            scheduler = deadline_scheduler.scheduler(
                lambda: PgRegistryUnitOfWork(rt.pool),
                clock=clock.now,
                interval_s=settings.scheduler_interval_s,
            )
            scheduler.start()
            rt.extras["scheduler"] = scheduler
        if settings.consumers_enabled and settings.partners_enabled:
            _start_partner_publisher(rt, settings)

    async def on_stop(rt: Runtime) -> None:
        await sender.stop()
        if publisher := rt.extras.get("partner_publisher"):
            await publisher.stop()
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
            complaints.router,
            # The supervisor's view of who read which records (ADR 0030).
            audit_router("/api/v1/audit/records"),
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
            # Complaints' terms follow their events, as the cases' do (registry.app.complaint_deadlines).
            ConsumerSpec(
                group="registry.complaint-deadlines",
                topics=[topics.COMPLAINT],
                handler=subscriptions.on_complaint_event,
                event_types=subscriptions.COMPLAINT_TYPES,
            ),
            ConsumerSpec(
                group="registry.notices",
                topics=[topics.NOTIFICATION],
                handler=subscriptions.on_notification_event,
                event_types=subscriptions.NOTIFICATION_TYPES,
            ),
            # Cases a partner agency decides: the request out, the agency's answers in (ADR 0040).
            ConsumerSpec(
                group="registry.agency-requests",
                topics=[topics.CASE],
                handler=subscriptions.agency_request_handler(sender),
                event_types=subscriptions.AGENCY_REQUEST_TYPES,
            ),
            *(
                ConsumerSpec(
                    group=f"registry.agency-answers.{agency}",
                    topics=[answers_topic(agency)],
                    handler=subscriptions.agency_answer_handler(agency),
                )
                for agency in partners.deciding_agencies()
            ),
        ],
        on_start=on_start,
        on_stop=on_stop,
    )
    app.state.staff = directory
    # One unit of work per request, on the service's pool (registry.api.deps).
    app.state.unit_of_work = PgRegistryUnitOfWork
    return app


def _start_partner_publisher(rt: Runtime, settings: RegistrySettings) -> None:
    """The partner feeds, one per contract, signed with the platform's key (docs/adr/0026-partner-publisher.md)."""
    if not settings.partner_signing_key_file:
        if settings.env == "production":
            raise RuntimeError(
                "BT_PARTNER_SIGNING_KEY_FILE is not set: a production registry cannot sign partner events"
            )
        off = Check("degraded", "not publishing: no signing key (BT_PARTNER_SIGNING_KEY_FILE)")
        if rt.health is not None:
            rt.health.extra_checks["partner_feeds"] = lambda: off
        return
    publisher = PartnerPublisher(
        partners.all_contracts(),
        store=PgFeedStore(rt.pool),
        open_log=partner_kafka.opener(
            client_options(settings), fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms
        ),
        leadership=AdvisoryLeadership(settings.database_url),
        key=signing.load_private_key(Path(settings.partner_signing_key_file)),
        request_poll_s=settings.partner_request_poll_s,
    )
    publisher.start()
    rt.extras["partner_publisher"] = publisher

    def check() -> Check:
        problems = publisher.problems()
        return Check("degraded", "; ".join(problems)) if problems else Check("ok")

    if rt.health is not None:
        rt.health.extra_checks["partner_feeds"] = check


app = build_app(RegistrySettings())
