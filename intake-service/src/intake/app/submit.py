"""Submitting an application at a service centre: checklist, receipt or refusal receipt, forwarding."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from pydantic import ValidationError

from btkernel import catalogue, sites
from btkernel.calendar import ALMATY
from btkernel.context import Actor, RequestContext
from btkernel.events.application import (
    ApplicationAcceptanceRefused,
    ApplicationCabinetNotified,
    ApplicationForwarded,
    ApplicationSubmitted,
)
from btkernel.events.values import PresentedDocument, Receipt, RefusalReceipt
from btkernel.problems import Forbidden, InvalidInput, RuleViolation
from btkernel.terms import KZ_CALENDAR, due_at, review_term
from intake.adapters import store
from intake.api.schemas import SubmitApplication
from intake.domain import application as states
from intake.domain.application import Application
from intake.domain.details import DETAILS_BY_SERVICE, ActDetails, missing_fields

SOURCE = "/intake"
# The channel is who accepts: a centre operator (S002 p.9), the registry chancellery at its desk — or the worker
# of the provider for annulment (S002/App.1 p.10, App.10 p.7) — or the portal client (S002 portal processes).
CHANNEL_OF_ROLE = {
    "centre_operator": "state_corporation",
    "registry_chancellery": "desk",
    "registry_worker": "desk",
    "portal": "portal",
}
CHANNEL_WORDS = {
    "state_corporation": "at service centres",
    "desk": "at the registry desk",
    "portal": "on the portal",
}
# What the acceptance document is on each channel (Receipt.form).
RECEIPT_FORM = {"state_corporation": "receipt", "desk": "registration_mark", "portal": "e_registration"}


def _validate_details(service: catalogue.StateService, details: dict[str, Any]) -> dict[str, Any]:
    variant = details.get("variant")
    if variant is not None and variant not in service.variants():
        raise InvalidInput(
            f"{variant!r} is not a variant of this service; one of: {', '.join(service.variants())}",
            field="body.details.variant",
        )
    model = DETAILS_BY_SERVICE.get(service.id, ActDetails)
    if variant == "amendment":
        model = ActDetails
    try:
        validated = model.model_validate(details)
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            path = "body.details" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
            reason = str(e["msg"]).removeprefix("Value error, ")
            errors.append({"path": path, "reason": reason})
        raise InvalidInput("; ".join(f"{e['path']}: {e['reason']}" for e in errors), errors=errors) from None
    if isinstance(validated, ActDetails):
        missing = missing_fields(service.id, validated)
        if missing:
            errors = [{"path": f"body.details.{f}", "reason": "required for this service"} for f in missing]
            raise InvalidInput(f"{service.names.en} needs: {', '.join(missing)}", errors=errors)
        return validated.model_dump(mode="json", exclude_defaults=True)
    return validated.model_dump(mode="json")


def _check_channel(service: catalogue.StateService, channel: str, details: dict[str, Any]) -> None:
    """A service is refused on a channel it is not offered on (services.md §1.2): paternity and adoption at the
    desk only, marriage not at centres, repeat certificates at the desk only from abroad (S002/App.3 p.2)."""
    if channel not in service.channels:
        raise RuleViolation(
            f"{service.names.en} is not offered {CHANNEL_WORDS[channel]}; offered: "
            f"{', '.join(CHANNEL_WORDS[c] for c in service.channels)}",
            field="body.service_id",
            code="channel_not_offered",
        )
    condition = service.channel_conditions.get(channel)
    if condition is not None and not details.get(condition):
        raise RuleViolation(
            f"{service.names.en} is offered {CHANNEL_WORDS[channel]} only when {condition} "
            f"({service.source} p.2)",
            field=f"body.details.{condition}",
            code="channel_not_offered",
        )


def _check_signature(req: SubmitApplication, today: dt.date) -> None:
    """The portal's checks of the EDS (S002 portal condition 2): valid, not revoked, the signer is the applicant."""
    sig = req.signature
    if sig is None:
        raise InvalidInput(
            "a portal application must carry the applicant's EDS signature", field="body.signature"
        )
    if sig.revoked:
        raise RuleViolation(
            "the EDS certificate is revoked", field="body.signature.revoked", code="eds_revoked"
        )
    if sig.certificate_valid_until < today:
        raise RuleViolation(
            "the EDS certificate has expired",
            field="body.signature.certificate_valid_until",
            code="eds_expired",
        )
    if sig.signer_iin != req.applicant.iin:
        raise RuleViolation(
            "the IIN of the EDS certificate is not the applicant's IIN",
            field="body.signature.signer_iin",
            code="eds_iin_mismatch",
        )


def planned_issue_date(
    service: catalogue.StateService, details: dict[str, Any], on: dt.date, channel: str = "state_corporation"
) -> dt.date:
    """Date printed on the receipt: forwarding (1 WD, service centres only) plus the registry's review term
    (S002 p.9)."""
    # Public holidays are known here; transfer decrees are kept by the registry, which computes the binding due
    # moment — the receipt's date is what the applicant is promised, the registry's deadline the obligation.
    cal = KZ_CALENDAR
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
    channel = CHANNEL_OF_ROLE.get(actor.role)
    if channel is None:
        raise Forbidden(f"role {actor.role} cannot accept applications")
    _check_channel(service, channel, req.details)
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
        _check_signature(req, today)
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
    details = _validate_details(service, req.details)

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
            result_issue_date=planned_issue_date(service, details, today, channel),
            result_issue_place=pickup,
            form=RECEIPT_FORM[channel],
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
