"""Which channel an application comes in on, whether its service is offered there, the portal's EDS checks, and
the service-specific details — each refusal a 422 naming the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from btkernel.errors import InvalidInput, RuleViolation
from civreg import catalogue
from civreg.events.details import parse
from civreg.events.values import EdsSignature
from civreg.policy import Role
from intake.domain.details import (
    ActDetails,
    ServiceDetails,
    missing_fields,
    missing_reason,
    rule_problems,
)

# The channel is who accepts: a centre operator (S002 p.9), the registry chancellery at its desk — or the worker
# of the provider for annulment (S002/App.1 p.10, App.10 p.7) — or the portal client (S002 portal processes).
CHANNEL_OF_ROLE: dict[str, str] = {
    Role.CENTRE_OPERATOR: "state_corporation",
    Role.REGISTRY_CHANCELLERY: "desk",
    Role.REGISTRY_WORKER: "desk",
    Role.PORTAL: "portal",
}
CHANNEL_WORDS = {
    "state_corporation": "at service centres",
    "desk": "at the registry desk",
    "portal": "on the portal",
}
# What the acceptance document is on each channel (Receipt.form).
RECEIPT_FORM = {"state_corporation": "receipt", "desk": "registration_mark", "portal": "e_registration"}


def validate_details(
    service: catalogue.StateService, details: dict[str, Any], today: dt.date
) -> ServiceDetails:
    """The details as the service needs them (the service's model, ADR 0018), dates judged on `today`; or
    `InvalidInput` naming each field."""
    variant = details.get("variant")
    if variant is not None and variant not in service.variants():
        shown = repr(variant) if isinstance(variant, str) and len(variant) <= 64 else "this value"
        raise InvalidInput(
            f"{shown} is not a variant of this service; one of: {', '.join(service.variants())}",
            field="body.details.variant",
        )
    try:
        # Persons' numbers by the rules of the edition's country: the IIN, or the Kyrgyz PIN (ADR 0039).
        validated = parse(service.id, details, today=today, country=service.country)
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            path = "body.details" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
            reason = str(e["msg"]).removeprefix("Value error, ")
            # pydantic's error type is the stable code a client translates by (btkernel.problems).
            errors.append({"path": path, "reason": reason, "type": e["type"]})
        raise InvalidInput("; ".join(f"{e['path']}: {e['reason']}" for e in errors), errors=errors) from None
    if isinstance(validated, ActDetails):
        missing = missing_fields(service.id, validated)
        if missing:
            errors = [
                {"path": f"body.details.{f}", "reason": missing_reason(service, f), "type": "missing"}
                for f in missing
            ]
            raise InvalidInput(f"{service.names.en} needs: {', '.join(missing)}", errors=errors)
        if problems := rule_problems(service.id, validated, today):
            raise InvalidInput("; ".join(f"{e['path']}: {e['reason']}" for e in problems), errors=problems)
    return validated


def check_channel(service: catalogue.StateService, channel: str, details: dict[str, Any]) -> None:
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


def check_signature(sig: EdsSignature | None, applicant_iin: str | None, today: dt.date) -> None:
    """The portal's checks of the EDS (S002 portal condition 2): valid, not revoked, the signer is the applicant."""
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
    if sig.signer_iin != applicant_iin:
        raise RuleViolation(
            "the IIN of the EDS certificate is not the applicant's IIN",
            field="body.signature.signer_iin",
            code="eds_iin_mismatch",
        )
