"""Submitting an application on any channel: checklist, receipt (registration mark at the desk) or refusal receipt,
forwarding to the registry office."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from btkernel import catalogue, pilots, sites
from btkernel.calendar import ALMATY
from btkernel.context import Actor, RequestContext
from btkernel.events.application import (
    ApplicationAcceptanceRefused,
    ApplicationCabinetNotified,
    ApplicationForwarded,
    ApplicationSubmitted,
)
from btkernel.events.values import PresentedDocument, Receipt, RefusalReceipt
from btkernel.problems import Forbidden, InvalidInput
from btkernel.terms import KZ_CALENDAR, due_at, review_term
from btkernel.workcal import builtin_schedule
from intake.adapters import store
from intake.api.schemas import SubmitApplication
from intake.app import channels, known_records
from intake.domain import application as states
from intake.domain.application import Application

SOURCE = "/intake"


def planned_issue_date(
    service: catalogue.StateService,
    details: dict[str, Any],
    accepted_at: dt.datetime,
    channel: str = "state_corporation",
    centre: sites.ServiceCentre | None = None,
) -> dt.date:
    """Date printed on the receipt: forwarding (1 WD, service centres only) plus the registry's review term
    (S002 p.9); at a pilot centre, birth and death within 3 working hours of acceptance, counted in the centre's
    working time (S000; `btkernel.pilots`)."""
    # Public holidays are known here; transfer decrees are kept by the registry, which computes the binding due
    # moment — the receipt's date is what the applicant is promised, the registry's deadline the obligation.
    cal = KZ_CALENDAR
    if channel == "state_corporation" and pilots.accelerated(centre, service.id, details.get("variant")):
        assert centre is not None
        schedule = builtin_schedule(centre.schedule)
        return due_at(pilots.ACCELERATED_TERM, accepted_at, cal, schedule).astimezone(ALMATY).date()
    on = accepted_at.astimezone(ALMATY).date()
    term = review_term(service, details, on, cal, channel=channel)
    forwarded_by = (
        cal.add_working_days(on, service.forward_term.value) if channel == "state_corporation" else on
    )
    start = dt.datetime.combine(forwarded_by, dt.time(9, 0), tzinfo=ALMATY)
    return due_at(term, start, cal).astimezone(ALMATY).date()


async def submit(
    conn: asyncpg.Connection, req: SubmitApplication, actor: Actor, ctx: RequestContext, now: dt.datetime
) -> tuple[int, dict[str, Any]]:
    """Runs inside the caller's transaction. Returns the HTTP status and body (a receipt or a refusal receipt)."""
    today = now.astimezone(ALMATY).date()
    service = catalogue.load().get(req.service_id, on=today)
    if service is None:
        known = ", ".join(catalogue.load().ids())
        raise InvalidInput(f"unknown service {req.service_id!r}; offered: {known}", field="body.service_id")
    channel = channels.CHANNEL_OF_ROLE.get(actor.role)
    if channel is None:
        raise Forbidden(f"role {actor.role} cannot accept applications")
    channels.check_channel(service, channel, req.details)
    centre: sites.ServiceCentre | None = None
    if channel == "state_corporation":
        centre = sites.load().centre(actor.site or "")
        if centre is None:
            raise Forbidden("the operator is not bound to a known service centre")
        office_id = req.registry_office_id or centre.registry_office
        # `centre_id` is the site that accepted the application and hands the result over.
        site_id, pickup = centre.id, f"{centre.name.ru}, {centre.address}"
    elif channel == "desk":
        office_id = actor.site or ""
        if req.registry_office_id not in (None, office_id):
            raise InvalidInput(
                "the desk accepts for its own registry office", field="body.registry_office_id"
            )
        site_id = office_id
    else:
        channels.check_signature(req, today)
        if req.registry_office_id is None:
            raise InvalidInput(
                "name the registry office for a portal application", field="body.registry_office_id"
            )
        # The result of a portal application is a paper document collected at the office (S002 p.2).
        office_id = site_id = req.registry_office_id
    office = sites.load().office(office_id)
    if office is None:
        raise InvalidInput(f"unknown registry office {office_id!r}", field="body.registry_office_id")
    if channel != "state_corporation":
        pickup = f"{office.name.ru}, {office.address}"
    details = channels.validate_details(service, req.details)
    await known_records.check(conn, service.id, details)

    by_code = {d.code: d for d in service.documents}
    for i, code in enumerate(req.documents):
        if code not in by_code:
            raise InvalidInput(
                f"{code!r} is not a document of this service's checklist; expected one of: "
                f"{', '.join(by_code)}",
                field=f"body.documents[{i}]",
            )
    presented = [PresentedDocument(code=c, name=by_code[c].name.ru) for c in dict.fromkeys(req.documents)]
    missing = [
        PresentedDocument(code=d.code, name=d.name.ru)
        for d in service.required_documents(
            with_representative=req.representative is not None, variant=details.get("variant")
        )
        if d.code not in req.documents
    ]

    application_id = str(uuid.uuid4())
    number = await store.next_receipt_number(conn, site_id, today.year)
    phones = [
        p
        for p in (
            req.contact.phone,
            req.representative.contact.phone if req.representative and req.representative.contact else None,
        )
        if p
    ]
    common: dict[str, Any] = {
        "service_id": service.id,
        "service_name": service.names.ru,
        "documents": presented,
        "operator_name": actor.name,
        "applicant_name": req.applicant.name.full(),
        "representative_name": req.representative.person.name.full() if req.representative else None,
        "phones": phones,
    }
    app = Application(application_id)
    if missing:
        refusal = RefusalReceipt(
            number=number,
            refused_at=now,
            missing_documents=missing,
            reason=f"the package of documents is incomplete (point 9 of the Standard; form {service.refusal_receipt_form})",
            **common,
        )
        app.record(
            ApplicationAcceptanceRefused(
                application_id=application_id,
                service_id=service.id,
                channel=channel,
                centre_id=site_id,
                refused_at=now,
                applicant=req.applicant,
                representative=req.representative,
                contact=req.contact,
                refusal_receipt=refusal,
            )
        )
        body_receipt, body_refusal = None, refusal.model_dump(mode="json")
    else:
        receipt = Receipt(
            number=number,
            accepted_at=now,
            documents_count=len(presented),
            result_issue_date=planned_issue_date(service, details, now, channel, centre),
            result_issue_place=pickup,
            form=channels.RECEIPT_FORM[channel],
            **common,
        )
        app.record(
            ApplicationSubmitted(
                application_id=application_id,
                service_id=service.id,
                channel=channel,
                centre_id=site_id,
                registry_office_id=office_id,
                submitted_at=now,
                applicant=req.applicant,
                representative=req.representative,
                contact=req.contact,
                details=details,
                documents=presented,
                receipt=receipt,
                signature=req.signature,
            )
        )
        # Forwarded electronically at once: the 1-working-day forwarding term (S002 p.9) is met by construction.
        # Desk and portal applications are the office's own; the event still hands them to its case work.
        app.record(
            ApplicationForwarded(
                application_id=application_id,
                service_id=service.id,
                channel=channel,
                centre_id=site_id,
                registry_office_id=office_id,
                submitted_at=now,
                forwarded_at=now,
                receipt_number=number,
                applicant=req.applicant,
                representative=req.representative,
                details=details,
                documents=presented,
            )
        )
        body_receipt, body_refusal = receipt.model_dump(mode="json"), None
        # The portal applicant's cabinet shows the acceptance of the e-application (services.md §2.7).
        app.notify_cabinet(kind="accepted", text=f"Электронное заявление принято, № {number}", at=now)
    pending = list(app.pending)
    await app.save(conn, ctx, SOURCE)
    await store.insert(
        conn,
        application_id=application_id,
        centre_id=site_id,
        service_id=service.id,
        channel=channel,
        status=app.status or states.ACCEPTED,
        receipt_number=number,
        applicant_iin=req.applicant.iin,
        applicant_name=req.applicant.name.full(),
        registry_office_id=None if missing else office_id,
        submitted_at=now,
        receipt=body_receipt,
        refusal_receipt=body_refusal,
    )
    for version, event in enumerate(pending, start=1):
        if isinstance(event, ApplicationCabinetNotified):
            await store.insert_cabinet_notification(conn, app, event, version)
    return 201, {
        "application_id": application_id,
        "status": app.status,
        "receipt": body_receipt,
        "refusal_receipt": body_refusal,
    }
