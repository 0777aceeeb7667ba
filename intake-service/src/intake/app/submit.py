"""Submitting an application on any channel: checklist, receipt (registration mark at the desk) or refusal receipt,
forwarding to the registry office. A command with an Idempotency-Key runs once: a repeat gets the first answer."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from btkernel.context import Actor, RequestContext
from btkernel.errors import Conflict, Forbidden, InvalidInput
from civreg import catalogue, countries, duty, pilots, sites
from civreg.calendar import ALMATY
from civreg.events.application import ApplicationAcceptanceRefused, ApplicationSubmitted
from civreg.events.details import ServiceDetails, stated_variant
from civreg.events.values import (
    Contact,
    DutyPayment,
    EdsSignature,
    Person,
    PresentedDocument,
    Receipt,
    RefusalReceipt,
    Representative,
    StateDuty,
)
from civreg.terms import KZ_CALENDAR, due_at, review_term
from intake.app import channels, home_visits, known_records, queue, site_country
from intake.app.applications import SOURCE, application_row, project_cabinet
from intake.app.unit_of_work import IntakeUnitOfWork, Once
from intake.domain.application import ACCEPTED, Application
from workcal import REGISTRY_OFFICE, Schedule, builtin_schedule


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
    # The state duty as settled at acceptance (ADR 0034): an exemption of S004 p.7 claimed, or the payment made.
    exemption: str | None = None
    payment: DutyPayment | None = None
    # The queue ticket whose call produced this application, or the home visit it was accepted on (S004 p.8, p.13;
    # ADR 0037): linked in the same transaction.
    ticket_id: str | None = None
    home_visit_id: str | None = None


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
    # A Kyrgyz edition counts on the Kyrgyz calendar in Bishkek time (ADR 0039).
    cal = KZ_CALENDAR if service.country == catalogue.HOME_COUNTRY else countries.calendar(service.country)
    tz = countries.timezone_of(service.country)
    if channel == "state_corporation" and pilots.accelerated(centre, service.id, stated_variant(details)):
        assert centre is not None
        schedule = builtin_schedule(centre.schedule)
        return due_at(pilots.ACCELERATED_TERM, accepted_at, cal, schedule).astimezone(ALMATY).date()
    on = accepted_at.astimezone(tz).date()
    term = review_term(service, details, on, cal, channel=channel)
    forwarded_by = (
        cal.add_working_days(on, service.forward_term.value) if channel == "state_corporation" else on
    )
    start = dt.datetime.combine(forwarded_by, dt.time(9, 0), tzinfo=tz)
    return due_at(term, start, cal, _office_hours(tz.key)).astimezone(tz).date()


@functools.cache
def _office_hours(timezone: str) -> Schedule:
    """The registry office's hours in `timezone`, built once per zone: a Schedule validates itself when built, a
    third of the receipt date's cost on every submission (issue 13). Schedules are frozen, so one may be shared."""
    return REGISTRY_OFFICE.with_timezone(timezone)


async def submit(cmd: Submit, uow: IntakeUnitOfWork) -> Submitted:
    """Accept (receipt) or refuse (refusal receipt) the application, and forward an accepted one.

    With an Idempotency-Key the first answer is kept with the submission, and a repeat gets it. The key is not
    looked up first: a repeat is rare, and the look-up (a lock on the key, then a read) was two of a submission's
    seven round trips (issue 13, docs/adr/0043-submission-cost.md). A repeat runs again instead and cannot commit
    (the key's row is unique: its insert waits for a twin still in flight, then fails once the twin commits);
    whatever stopped it, the key is then looked up in a transaction of its own, and the first answer is given (or
    409 for another request). A repeat that fails while its twin has not yet committed gets its own error; the
    client's next retry gets the answer."""
    if cmd.once is None:
        return await _submit_once(cmd, uow)
    try:
        return await _submit_once(cmd, uow)
    except Exception as failure:
        try:
            async with uow:
                first = await uow.answers.given(cmd.once)
        except Conflict:
            raise
        except Exception:
            raise failure from None  # the key cannot be read either (an outage): the first failure says why
        if first is None:
            raise
        return Submitted(**first, replayed=True)


async def _submit_once(cmd: Submit, uow: IntakeUnitOfWork) -> Submitted:
    async with uow:
        submitted = await _submit(cmd, uow)
        if cmd.once is not None:
            await uow.answers.remember(cmd.once, submitted.answer())
        await uow.commit()
    return submitted


async def _submit(cmd: Submit, uow: IntakeUnitOfWork) -> Submitted:
    # The accepting site's country selects the catalogue's edition, the day and the persons' numbers (ADR 0039).
    country = site_country.of_command(cmd.actor.site, cmd.registry_office_id)
    today = cmd.now.astimezone(countries.timezone_of(country)).date()
    service = site_country.service(cmd.service_id, today, country)
    site_country.check_number(cmd.applicant.iin, country, "body.applicant.iin")
    where = _where(service, cmd, today)
    details = channels.validate_details(service, cmd.details, today)
    await known_records.check(uow.known_records, service.id, details)
    state_duty = _state_duty(service, cmd, details, today)
    presented, missing = _checklist(service, cmd, details, state_duty)

    application_id = str(uuid.uuid4())
    common = _receipt_common(service, cmd, presented)
    # Everything that does not need the receipt's number is done before it is taken: the number's counter row
    # is locked from the moment it is taken until the commit, and every other submission of the centre waits
    # for it (issue 13). A placeholder now, the number put in below without validating again.
    receipt: Receipt | None = None
    refusal: RefusalReceipt | None = None
    opening: ApplicationSubmitted | ApplicationAcceptanceRefused
    if missing:
        refusal = RefusalReceipt(
            number=_NOT_YET,
            refused_at=cmd.now,
            missing_documents=missing,
            reason=f"the package of documents is incomplete (point 9 of the Standard; form {service.refusal_receipt_form})",
            **common,
        )
        opening = ApplicationAcceptanceRefused(
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
    else:
        receipt = Receipt(
            number=_NOT_YET,
            accepted_at=cmd.now,
            documents_count=len(presented),
            result_issue_date=planned_issue_date(service, details, cmd.now, where.channel, where.centre),
            result_issue_place=where.pickup,
            form=channels.RECEIPT_FORM[where.channel],
            state_duty=state_duty,
            **common,
        )
        opening = ApplicationSubmitted(
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
    # The ticket or home visit is linked before the number too: a ticket that cannot be served fails the
    # submission before the counter moves (and the rollback would undo it anyway: no gap either way).
    if cmd.ticket_id is not None:
        await queue.link_application(uow, cmd.actor, cmd.ticket_id, application_id, cmd.now)
    if cmd.home_visit_id is not None:
        await home_visits.accept_at_home(uow, cmd.actor, cmd.home_visit_id, application_id, cmd.now)

    number = await uow.applications.next_receipt_number(where.site_id, today.year)
    app = Application(application_id)
    if isinstance(opening, ApplicationAcceptanceRefused):
        assert refusal is not None
        refusal = refusal.model_copy(update={"number": number})
        app.refuse_acceptance(opening.model_copy(update={"refusal_receipt": refusal}))
    else:
        assert receipt is not None
        receipt = receipt.model_copy(update={"number": number})
        app.accept(opening.model_copy(update={"receipt": receipt}))
    pending = list(app.pending)
    row = application_row(app, pending[0], cmd.now)
    result = Submitted(
        application_id=application_id,
        status=app.status or ACCEPTED,
        receipt=row.receipt,
        refusal_receipt=row.refusal_receipt,
    )
    base = app.expected_version
    appended = await uow.events.save(app, cmd.ctx, SOURCE)
    # The row from the events just appended, as a rebuild writes it (ADR 0027).
    await uow.applications.insert(replace(row, updated_at=appended[-1].time))
    await project_cabinet(uow, app, pending, base)
    return result


# Stands for the receipt's number until it is taken (never stored: replaced before anything is written).
_NOT_YET = "-"


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


def _state_duty(
    service: catalogue.StateService, cmd: Submit, details: ServiceDetails, today: dt.date
) -> StateDuty:
    """The duty quoted from the shared tariff for the filing date (ADR 0034), with the exemption claimed and the
    payment stated. A bank document for less than is due is refused here; anything else about a payment is the
    fee service's to reconcile."""
    if service.country != catalogue.HOME_COUNTRY:
        return site_country.foreign_duty(service, cmd.exemption, cmd.payment, today)
    try:
        quote = duty.quote_application(service, details, today, exemption=cmd.exemption)
    except duty.NotExempt as exc:
        raise InvalidInput(str(exc), field="body.state_duty.exemption") from exc
    payment = cmd.payment
    if payment is not None and not quote.payable:
        raise InvalidInput(
            "nothing is due for this application: no payment to record", field="body.state_duty.payment"
        )
    if payment is not None and payment.amount_tiyn is not None and payment.amount_tiyn < quote.amount_tiyn:
        raise InvalidInput(
            f"the payment document is for {payment.amount_tiyn} tiyn; {quote.amount_tiyn} tiyn are due",
            field="body.state_duty.payment.amount_tiyn",
        )
    return StateDuty(
        amount_tiyn=quote.amount_tiyn,
        mrp_multiple=quote.mrp_multiple,
        basis=quote.basis,
        exemption=quote.exemption,
        payment=payment,
    )


def _checklist(
    service: catalogue.StateService, cmd: Submit, details: ServiceDetails, state_duty: StateDuty
) -> tuple[list[PresentedDocument], list[PresentedDocument]]:
    """The documents presented, and those of the checklist (point 9 of the Standard) that are missing. A duty
    that is 0 (free or exempt) or paid needs no paper proof of payment; an exemption needs its supporting
    document (S004 p.7; ADR 0034)."""
    by_code = {d.code: d for d in service.documents}
    for i, code in enumerate(cmd.documents):
        if code not in by_code:
            raise InvalidInput(
                f"{code!r} is not a document of this service's checklist; expected one of: "
                f"{', '.join(by_code)}",
                field=f"body.documents[{i}]",
                code="unknown_document",
            )
    presented = [PresentedDocument(code=c, name=by_code[c].name.ru) for c in dict.fromkeys(cmd.documents)]
    settled = state_duty.amount_tiyn == 0 or state_duty.payment is not None
    missing = [
        PresentedDocument(code=d.code, name=d.name.ru)
        for d in service.required_documents(
            with_representative=cmd.representative is not None, variant=details.variant
        )
        if d.code not in cmd.documents and not (settled and d.code == duty.FEE_RECEIPT)
    ]
    if state_duty.exemption is not None and duty.EXEMPTION_DOCUMENT not in cmd.documents:
        exemption = duty.tariff().exemption(state_duty.exemption)
        assert exemption is not None  # granted by the tariff in _state_duty
        missing.append(PresentedDocument(code=duty.EXEMPTION_DOCUMENT, name=exemption.document.ru))
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
