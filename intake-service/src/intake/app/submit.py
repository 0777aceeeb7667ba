"""Submitting an application on any channel: checklist, receipt (registration mark at the desk) or refusal receipt,
forwarding to the registry office. A command with an Idempotency-Key runs once: a repeat gets the first answer."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from btkernel.context import Actor, RequestContext
from btkernel.errors import Forbidden, InvalidInput
from civreg import catalogue, pilots, sites
from civreg.calendar import ALMATY
from civreg.events.application import ApplicationAcceptanceRefused, ApplicationSubmitted
from civreg.events.details import ServiceDetails, stated_variant
from civreg.events.values import (
    Contact,
    EdsSignature,
    Person,
    PresentedDocument,
    Receipt,
    RefusalReceipt,
    Representative,
)
from civreg.terms import KZ_CALENDAR, due_at, review_term
from intake.app import channels, known_records
from intake.app.applications import SOURCE, project_cabinet
from intake.app.unit_of_work import ApplicationRow, IntakeUnitOfWork, Once
from intake.domain.application import ACCEPTED, Application
from workcal import builtin_schedule


@dataclass(frozen=True)
class Submit:
    """An application as the operator (the desk, the portal) entered it, with who accepts it and when."""

    service_id: str
    applicant: Person
    contact: Contact
    documents: list[str]
    details: dict[str, Any]
    actor: Actor
    ctx: RequestContext
    now: dt.datetime
    representative: Representative | None = None
    registry_office_id: str | None = None
    signature: EdsSignature | None = None
    once: Once | None = None


@dataclass(frozen=True)
class Submitted:
    """The answer: a receipt, or a refusal receipt (as JSON, as issued); `replayed` when a repeat of a key."""

    application_id: str
    status: str
    receipt: dict[str, Any] | None
    refusal_receipt: dict[str, Any] | None
    replayed: bool = False

    def answer(self) -> dict[str, Any]:
        return {
            "application_id": self.application_id,
            "status": self.status,
            "receipt": self.receipt,
            "refusal_receipt": self.refusal_receipt,
        }


@dataclass(frozen=True)
class Where:
    """Where an application is accepted (`site_id`, which hands the result over), the office that reviews it,
    and the place printed on the receipt."""

    channel: str
    site_id: str
    office_id: str
    pickup: str
    centre: sites.ServiceCentre | None


def planned_issue_date(
    service: catalogue.StateService,
    details: ServiceDetails | Mapping[str, Any],
    accepted_at: dt.datetime,
    channel: str = "state_corporation",
    centre: sites.ServiceCentre | None = None,
) -> dt.date:
    """Date printed on the receipt: forwarding (1 WD, service centres only) plus the registry's review term
    (S002 p.9); at a pilot centre, birth and death within 3 working hours of acceptance, counted in the centre's
    working time (S000; `civreg.pilots`)."""
    # Public holidays are known here; transfer decrees are kept by the registry, which computes the binding due
    # moment — the receipt's date is what the applicant is promised, the registry's deadline the obligation.
    cal = KZ_CALENDAR
    if channel == "state_corporation" and pilots.accelerated(centre, service.id, stated_variant(details)):
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


async def submit(cmd: Submit, uow: IntakeUnitOfWork) -> Submitted:
    """Accept (receipt) or refuse (refusal receipt) the application, and forward an accepted one."""
    async with uow:
        if cmd.once is not None and (first := await uow.answers.given(cmd.once)) is not None:
            return Submitted(**first, replayed=True)
        submitted = await _submit(cmd, uow)
        if cmd.once is not None:
            await uow.answers.remember(cmd.once, submitted.answer())
        await uow.commit()
    return submitted


async def _submit(cmd: Submit, uow: IntakeUnitOfWork) -> Submitted:
    today = cmd.now.astimezone(ALMATY).date()
    service = catalogue.load().get(cmd.service_id, on=today)
    if service is None:
        known = ", ".join(catalogue.load().ids())
        raise InvalidInput(f"unknown service {cmd.service_id!r}; offered: {known}", field="body.service_id")
    where = _where(service, cmd, today)
    details = channels.validate_details(service, cmd.details, today)
    await known_records.check(uow.known_records, service.id, details)
    presented, missing = _checklist(service, cmd, details)

    application_id = str(uuid.uuid4())
    number = await uow.applications.next_receipt_number(where.site_id, today.year)
    common = _receipt_common(service, cmd, presented)
    app = Application(application_id)
    receipt: Receipt | None = None
    refusal: RefusalReceipt | None = None
    if missing:
        refusal = RefusalReceipt(
            number=number,
            refused_at=cmd.now,
            missing_documents=missing,
            reason=f"the package of documents is incomplete (point 9 of the Standard; form {service.refusal_receipt_form})",
            **common,
        )
        app.refuse_acceptance(
            ApplicationAcceptanceRefused(
                application_id=application_id,
                service_id=service.id,
                channel=where.channel,
                centre_id=where.site_id,
                refused_at=cmd.now,
                applicant=cmd.applicant,
                representative=cmd.representative,
                contact=cmd.contact,
                refusal_receipt=refusal,
            )
        )
    else:
        receipt = Receipt(
            number=number,
            accepted_at=cmd.now,
            documents_count=len(presented),
            result_issue_date=planned_issue_date(service, details, cmd.now, where.channel, where.centre),
            result_issue_place=where.pickup,
            form=channels.RECEIPT_FORM[where.channel],
            **common,
        )
        app.accept(
            ApplicationSubmitted(
                application_id=application_id,
                service_id=service.id,
                channel=where.channel,
                centre_id=where.site_id,
                registry_office_id=where.office_id,
                submitted_at=cmd.now,
                applicant=cmd.applicant,
                representative=cmd.representative,
                contact=cmd.contact,
                details=details,
                documents=presented,
                receipt=receipt,
                signature=cmd.signature,
            )
        )
    result = Submitted(
        application_id=application_id,
        status=app.status or ACCEPTED,
        receipt=receipt.model_dump(mode="json") if receipt else None,
        refusal_receipt=refusal.model_dump(mode="json") if refusal else None,
    )
    base = app.expected_version
    pending = list(app.pending)
    await uow.events.save(app, cmd.ctx, SOURCE)
    await uow.applications.insert(
        ApplicationRow(
            application_id=application_id,
            centre_id=where.site_id,
            service_id=service.id,
            channel=where.channel,
            status=result.status,
            receipt_number=number,
            applicant_iin=cmd.applicant.iin,
            applicant_name=cmd.applicant.name.full(),
            registry_office_id=None if missing else where.office_id,
            case_id=None,
            record_number=None,
            outcome=None,
            submitted_at=cmd.now,
            updated_at=cmd.now,
            receipt=result.receipt,
            refusal_receipt=result.refusal_receipt,
        )
    )
    await project_cabinet(uow, app, pending, base)
    return result


def _where(service: catalogue.StateService, cmd: Submit, today: dt.date) -> Where:
    """The channel is who accepts (`channels.CHANNEL_OF_ROLE`); each has its own rules for the office."""
    actor = cmd.actor
    channel = channels.CHANNEL_OF_ROLE.get(actor.role)
    if channel is None:
        raise Forbidden(f"role {actor.role} cannot accept applications")
    channels.check_channel(service, channel, cmd.details)
    centre: sites.ServiceCentre | None = None
    pickup: str | None = None
    if channel == "state_corporation":
        centre = sites.load().centre(actor.site or "")
        if centre is None:
            raise Forbidden("the operator is not bound to a known service centre")
        office_id = cmd.registry_office_id or centre.registry_office
        # `centre_id` is the site that accepted the application and hands the result over.
        site_id, pickup = centre.id, f"{centre.name.ru}, {centre.address}"
    elif channel == "desk":
        office_id = actor.site or ""
        if cmd.registry_office_id not in (None, office_id):
            raise InvalidInput(
                "the desk accepts for its own registry office", field="body.registry_office_id"
            )
        site_id = office_id
    else:
        channels.check_signature(cmd.signature, cmd.applicant.iin, today)
        if cmd.registry_office_id is None:
            raise InvalidInput(
                "name the registry office for a portal application", field="body.registry_office_id"
            )
        # The result of a portal application is a paper document collected at the office (S002 p.2).
        office_id = site_id = cmd.registry_office_id
    office = sites.load().office(office_id)
    if office is None:
        raise InvalidInput(f"unknown registry office {office_id!r}", field="body.registry_office_id")
    if pickup is None:
        pickup = f"{office.name.ru}, {office.address}"
    return Where(channel=channel, site_id=site_id, office_id=office_id, pickup=pickup, centre=centre)


def _checklist(
    service: catalogue.StateService, cmd: Submit, details: ServiceDetails
) -> tuple[list[PresentedDocument], list[PresentedDocument]]:
    """The documents presented, and those of the checklist (point 9 of the Standard) that are missing."""
    by_code = {d.code: d for d in service.documents}
    for i, code in enumerate(cmd.documents):
        if code not in by_code:
            raise InvalidInput(
                f"{code!r} is not a document of this service's checklist; expected one of: "
                f"{', '.join(by_code)}",
                field=f"body.documents[{i}]",
            )
    presented = [PresentedDocument(code=c, name=by_code[c].name.ru) for c in dict.fromkeys(cmd.documents)]
    missing = [
        PresentedDocument(code=d.code, name=d.name.ru)
        for d in service.required_documents(
            with_representative=cmd.representative is not None, variant=details.variant
        )
        if d.code not in cmd.documents
    ]
    return presented, missing


def _receipt_common(
    service: catalogue.StateService, cmd: Submit, presented: list[PresentedDocument]
) -> dict[str, Any]:
    """What a receipt and a refusal receipt both show."""
    representative = cmd.representative
    phones = [
        p
        for p in (
            cmd.contact.phone,
            representative.contact.phone if representative and representative.contact else None,
        )
        if p
    ]
    return {
        "service_id": service.id,
        "service_name": service.names.ru,
        "documents": presented,
        "operator_name": cmd.actor.name,
        "applicant_name": cmd.applicant.name.full(),
        "representative_name": representative.person.name.full() if representative else None,
        "phones": phones,
    }
