"""Use case: the applicant who complained receives the answer (or the refusal to review) by mail, in Russian and
Kazakh (S004 p.11: "a reasoned answer is sent by post"). The complaint's filing makes the addressee's row of the
projection (keyed by the complaint id, status `complaint`), its registration adds the incoming number and date the
letter cites."""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

from btkernel.envelope import Envelope
from civreg import events, sites
from civreg.events.complaint import (
    ComplaintAnswered,
    ComplaintFiled,
    ComplaintRegistered,
    ComplaintReviewRefused,
)
from notification.app.projection import DEFAULT_TIMEZONE, Store, UnknownApplication, queue
from notification.domain import messages
from notification.domain.applicant import ApplicationContact

GROUP = "notification.complaints"
EVENT_TYPES = (
    ComplaintFiled.TYPE,
    ComplaintRegistered.TYPE,
    ComplaintAnswered.TYPE,
    ComplaintReviewRefused.TYPE,
)
COMPLAINT = "complaint"


async def apply(envelope: Envelope, store: Store) -> None:
    event = events.parse(envelope.type, envelope.data)
    if isinstance(event, ComplaintFiled):
        await store.save_application(_filed(event, envelope.id))
        return
    if not isinstance(event, (ComplaintRegistered, ComplaintAnswered, ComplaintReviewRefused)):
        return
    contact = await store.get_application(event.complaint_id)
    if contact is None:
        raise UnknownApplication(f"complaint {event.complaint_id} was never filed")
    if isinstance(event, ComplaintRegistered):
        # The letter cites the number with its date, as the stamp gave them (services.md §3.4).
        on = event.registered_at.astimezone(ZoneInfo(contact.timezone)).strftime("%d.%m.%Y")
        await store.save_application(
            dataclasses.replace(contact, receipt_number=f"{event.incoming_number} от {on}")
        )
        return
    if isinstance(event, ComplaintAnswered):
        rendered = messages.complaint_answered(
            recipient_name=contact.recipient_name,
            incoming_number=contact.receipt_number or "—",
            addressee=contact.service_id,
            answer=event.answer,
            delivery=event.delivery,
        )
    else:
        rendered = messages.complaint_review_refused(
            recipient_name=contact.recipient_name,
            incoming_number=contact.receipt_number or "—",
            reason=event.reason,
        )
    await queue(store, contact, envelope, rendered)


def _filed(e: ComplaintFiled, event_id: str) -> ApplicationContact:
    site = sites.load().office(e.site_id) or sites.load().centre(e.site_id)
    tz = site.timezone if site else DEFAULT_TIMEZONE
    contact = e.applicant.contact
    return ApplicationContact(
        application_id=e.complaint_id,
        # Whom the complaint is addressed to (provider, centre, quality_control): the letter names it.
        service_id=e.addressee,
        service_name_ru="Жалоба",
        service_name_kk="Шағым",
        centre_id=e.site_id,
        status=COMPLAINT,
        receipt_number=None,
        applicant_name=e.applicant.name.full(),
        recipient_name=e.applicant.name.full(),
        email=contact.email if contact else None,
        phone=contact.phone if contact else None,
        timezone=tz,
        source_event_id=event_id,
    )
