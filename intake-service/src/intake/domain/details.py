"""The counter's rules for an application's details: which fields each service needs, the date of death.

The models themselves are the civil-registration contract in `civreg.events.details` (ADR 0018), re-exported
here. No clock here: the dates are judged against the day the caller names. Validate with `validate(model, data,
today)` or `civreg.events.details.parse(service_id, data, today=…)`; the use case takes today from its command,
which the edge stamps with `btkernel.clock`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from pydantic import BaseModel

from civreg.catalogue import StateService

# The models are the civil-registration contract, shared with the events and the registry (ADR 0018); the rules
# of the counter (what each service needs, the date of death) stay here.
from civreg.events.details import (
    AMENDMENT,
    BY_SERVICE,
    EARLIEST_BIRTH,
    ActDetails,
    BirthDetails,
    Child,
    Parent,
    ServiceDetails,
    Subject,
    birth_date_problem,
    model_for,
)

__all__ = [
    "BY_SERVICE",
    "EARLIEST_BIRTH",
    "NEEDS",
    "ActDetails",
    "BirthDetails",
    "Child",
    "Parent",
    "ServiceDetails",
    "Subject",
    "birth_date_problem",
    "missing_fields",
    "missing_reason",
    "model_for",
    "rule_problems",
    "validate",
]

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any, today: dt.date) -> M:
    """`model` validated from `data`, its dates judged on `today`."""
    return model.model_validate(data, context={"today": today})


# Which fields each service (or variant) needs, so a missing one is named in the 422 (body.details.<field>).
NEEDS: dict[str, tuple[str, ...]] = {
    "amendment": ("record_id", "changes"),
    "marriage_registration": ("subject", "parties"),
    # The variant is the ground of the divorce: without it the case would get the default term and skip the
    # court decision or the one-month wait (S002/App.9 p.5(3)-(5)).
    "divorce_registration": ("variant", "subject", "parties"),
    "death_registration": ("subject",),
    # Paternity is entered into the child's birth record (S002/App.4 p.3): it must name the record.
    "paternity_registration": ("subject", "birth_record_id"),
    "adoption_registration": ("subject",),
    "name_change_registration": ("subject", "changes"),
    "restoration_of_records": ("subject", "record_kind"),
    "repeat_certificates": ("record_id",),
    "annulment_of_records": ("record_id", "reason"),
}


def missing_fields(service_id: str, details: ActDetails) -> list[str]:
    key = AMENDMENT if details.variant == AMENDMENT else service_id
    return [f for f in NEEDS.get(key, ()) if not getattr(details, f)]


def missing_reason(service: StateService, field: str) -> str:
    if field == "variant":
        return f"required for this service: one of {', '.join(service.variants())}"
    if field == "birth_record_id":
        return "required for this service: the id of the child's birth record it changes"
    return "required for this service"


def rule_problems(service_id: str, details: ActDetails, today: dt.date) -> list[dict[str, str]]:
    """What a registrar refuses beyond the shape of the fields on `today`, as [{path, reason}]."""
    if service_id != "death_registration" or details.variant == AMENDMENT:
        return []
    # A death is registered with its date (S002/App.7: the medical death certificate states it).
    path = "body.details.facts.died_on"
    died = details.facts.get("died_on")
    if died is None:
        return [{"path": path, "reason": "the date of death is required (YYYY-MM-DD)"}]
    try:
        died_on = dt.date.fromisoformat(str(died))
    except ValueError:
        return [{"path": path, "reason": "the date of death is a date, YYYY-MM-DD"}]
    if died_on > today:
        return [{"path": path, "reason": "the date of death cannot be in the future"}]
    born = details.subject.birth_date if details.subject else None
    if born is not None and died_on < born:
        return [{"path": path, "reason": "the date of death cannot be before the date of birth"}]
    if died_on < EARLIEST_BIRTH:
        return [{"path": path, "reason": f"the date of death cannot be before {EARLIEST_BIRTH.isoformat()}"}]
    return []
