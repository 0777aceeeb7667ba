"""Use case: project civreg.application (and the case topic's extensions) into the applicant's contact per
application, and queue the messages the applicant is owed."""

from __future__ import annotations

from typing import Protocol
from zoneinfo import ZoneInfo

from btkernel import logging as btlog
from btkernel.envelope import Envelope
from civreg import events, sites
from civreg.events.application import (
    ApplicationAcceptanceRefused,
    ApplicationResultReceived,
    ApplicationSubmitted,
)
from civreg.events.case import ReviewExtended
from notification.app import names
from notification.domain import messages
from notification.domain.applicant import ACCEPTANCE_REFUSED, SUBMITTED, ApplicationContact, addressee
from notification.domain.notification import (
    NewNotification,
    email_when_there_is_an_address_else_sms,
    new_notification,
)

log = btlog.get(__name__)

GROUP = "notification.applicant"
EVENT_TYPES = (ApplicationSubmitted.TYPE, ApplicationResultReceived.TYPE, ApplicationAcceptanceRefused.TYPE)
# The registry's case topic, for what the provider must tell the applicant while the case runs.
CASE_GROUP = "notification.case"
CASE_EVENT_TYPES = (ReviewExtended.TYPE,)
# Sites without a known timezone are in Kazakhstan: dates on messages are local dates.
DEFAULT_TIMEZONE = "Asia/Almaty"


class Store(Protocol):
    """The projection and the delivery log, in the transaction of the event being applied."""

    async def save_application(self, app: ApplicationContact) -> None: ...

    async def get_application(self, application_id: str) -> ApplicationContact | None: ...

    async def add_notification(self, n: NewNotification) -> bool:
        """Queue the message; False when this event already produced it."""
        ...


class UnknownApplication(LookupError):
    """A result arrived for an application this service never saw submitted: retried, then dead-lettered."""


async def apply(envelope: Envelope, store: Store) -> None:
    event = events.parse(envelope.type, envelope.data)
    if isinstance(event, ApplicationSubmitted):
        await store.save_application(_submitted(event, envelope.id))
    elif isinstance(event, ApplicationResultReceived):
        await _result_received(event, envelope, store)
    elif isinstance(event, ApplicationAcceptanceRefused):
        await _acceptance_refused(event, envelope, store)
    elif isinstance(event, ReviewExtended):
        await _review_extended(event, envelope, store)


async def _review_extended(e: ReviewExtended, envelope: Envelope, store: Store) -> None:
    if e.application_id is None:
        return  # an extension recorded before events named their application: nobody to address
    app = await store.get_application(e.application_id)
    if app is None or app.receipt_number is None:
        raise UnknownApplication(
            f"review of application {e.application_id} extended, but it was never submitted"
        )
    rendered = messages.review_extended(
        recipient_name=app.recipient_name,
        service_name_ru=app.service_name_ru,
        service_name_kk=app.service_name_kk,
        service_name_ky=app.service_name_ky,
        lang=names.language_of(app.centre_id),
        receipt_number=app.receipt_number,
        reason=e.reason,
        days=e.days,
        due_on=e.review_due_at.astimezone(ZoneInfo(app.timezone)).date(),
    )
    due_on = e.review_due_at.astimezone(ZoneInfo(app.timezone)).strftime("%d.%m.%Y")
    await queue(store, app, envelope, rendered, due_on=due_on)


def _submitted(e: ApplicationSubmitted, event_id: str) -> ApplicationContact:
    tz = _timezone(e.centre_id)
    service = names.service_names(e.service_id, e.submitted_at, e.centre_id, fallback=e.receipt.service_name)
    name, email, phone = addressee(e.applicant, e.representative, e.contact)
    return ApplicationContact(
        application_id=e.application_id,
        service_id=e.service_id,
        service_name_ru=service.ru,
        service_name_kk=service.kk,
        service_name_ky=service.ky,
        centre_id=e.centre_id,
        status=SUBMITTED,
        receipt_number=e.receipt.number,
        applicant_name=e.applicant.name.full(),
        recipient_name=name,
        email=email,
        phone=phone,
        timezone=tz,
        source_event_id=event_id,
    )


async def _result_received(e: ApplicationResultReceived, envelope: Envelope, store: Store) -> None:
    app = await store.get_application(e.application_id)
    if app is None or app.receipt_number is None:
        raise UnknownApplication(
            f"result received for application {e.application_id}, which this service has"
            " no accepted submission of"
        )
    if e.refusal_reason is not None:
        rendered = messages.registry_refusal(
            recipient_name=app.recipient_name,
            service_name_ru=app.service_name_ru,
            service_name_kk=app.service_name_kk,
            service_name_ky=app.service_name_ky,
            lang=names.language_of(app.centre_id),
            receipt_number=app.receipt_number,
            pickup_place=e.pickup_place,
            reason=e.refusal_reason,
        )
    else:
        rendered = messages.result_ready(
            recipient_name=app.recipient_name,
            service_name_ru=app.service_name_ru,
            service_name_kk=app.service_name_kk,
            service_name_ky=app.service_name_ky,
            lang=names.language_of(app.centre_id),
            receipt_number=app.receipt_number,
            pickup_place=e.pickup_place,
        )
    await queue(store, app, envelope, rendered)


async def _acceptance_refused(e: ApplicationAcceptanceRefused, envelope: Envelope, store: Store) -> None:
    tz = _timezone(e.centre_id)
    receipt = e.refusal_receipt
    service = names.service_names(e.service_id, e.refused_at, e.centre_id, fallback=receipt.service_name)
    name, email, phone = addressee(e.applicant, e.representative, e.contact)
    # The refused package never got an accepted submission: the refusal itself makes the projection row, so the
    # centre scoping of the delivery log works for it too.
    app = ApplicationContact(
        application_id=e.application_id,
        service_id=e.service_id,
        service_name_ru=service.ru,
        service_name_kk=service.kk,
        service_name_ky=service.ky,
        centre_id=e.centre_id,
        status=ACCEPTANCE_REFUSED,
        receipt_number=None,
        applicant_name=e.applicant.name.full(),
        recipient_name=name,
        email=email,
        phone=phone,
        timezone=tz,
        source_event_id=envelope.id,
    )
    await store.save_application(app)
    rendered = messages.acceptance_refused(
        recipient_name=name,
        service_name_ru=service.ru,
        service_name_kk=service.kk,
        service_name_ky=service.ky,
        lang=service.lang,
        refusal_number=receipt.number,
        refused_at=e.refused_at,
        timezone=tz,
        reason=receipt.reason,
        missing_documents=names.document_names(
            e.service_id, e.refused_at, e.centre_id, receipt.missing_documents
        ),
    )
    refused_on = e.refused_at.astimezone(ZoneInfo(tz)).strftime("%d.%m.%Y")
    await queue(store, app, envelope, rendered, number=receipt.number, refused_on=refused_on)


async def queue(
    store: Store, app: ApplicationContact, envelope: Envelope, rendered: messages.Rendered, **sms_values: str
) -> None:
    """Queue `rendered` on the applicant's channel; `sms_values` are what its SMS text quotes besides the
    receipt number (ADR 0038)."""
    n = new_notification(
        app,
        rendered,
        email_when_there_is_an_address_else_sms(app),
        sms_values=sms_values,
        source_event_id=envelope.id,
        correlation_id=envelope.correlation_id or envelope.id,
    )
    if await store.add_notification(n):
        log.info(
            "notification_queued",
            notification_id=n.notification_id,
            application_id=app.application_id,
            template=n.template,
            status=n.status,
        )


def _timezone(centre_id: str) -> str:
    centre = sites.load().centre(centre_id)
    return centre.timezone if centre else DEFAULT_TIMEZONE
