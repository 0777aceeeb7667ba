"""Service-specific application details, validated per service so errors name the exact field.

No clock here: the dates are judged against the day the caller names. Validate with `validate(model, data,
today)` (or pydantic's `context={"today": today}`); the use case takes today from its command, which the edge
stamps with `btkernel.clock`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from btkernel import iin as iin_rules
from btkernel.bounded import CODE_MAX, LIST_MAX, PLACE_MAX, Code, Id, Place, Reason, text_problem
from btkernel.catalogue import StateService
from btkernel.events.values import PersonName

# No civil-status record a registrar handles today names a person born before this day (configuration: the
# oldest living people and the restoration of pre-war records fit; 1800 is a typing error).
EARLIEST_BIRTH = dt.date(1900, 1, 1)
# How deep the free-form `facts` and `changes` may nest (a changed parent is {"father": {"name": {...}}}).
JSON_DEPTH_MAX = 4


M = TypeVar("M", bound=BaseModel)


def birth_date_problem(born: dt.date, today: dt.date) -> str | None:
    """Why `born` cannot be a date of birth on `today`, or None."""
    if born > today:
        return "the date of birth cannot be in the future"
    if born < EARLIEST_BIRTH:
        return f"the date of birth cannot be before {EARLIEST_BIRTH.isoformat()}"
    return None


def validate(model: type[M], data: Any, today: dt.date) -> M:
    """`model` validated from `data`, its dates judged on `today`."""
    return model.model_validate(data, context={"today": today})


def _today(info: ValidationInfo) -> dt.date:
    today = info.context.get("today") if isinstance(info.context, dict) else None
    if not isinstance(today, dt.date):
        # A programming error, not the applicant's: never judge a date against an unknown day.
        raise RuntimeError("validate details with `details.validate(model, data, today)`")
    return today


def _birth_date(born: dt.date | None, info: ValidationInfo) -> dt.date | None:
    if born is not None and (why := birth_date_problem(born, _today(info))):
        raise ValueError(why)
    return born


def _bounded_json(value: Any, depth: int = 0) -> Any:
    """Free-form values (facts, changes): text of at most a place's length, at most LIST_MAX items per level,
    at most JSON_DEPTH_MAX levels — so no single field can make the application's events too large."""
    if depth > JSON_DEPTH_MAX:
        raise ValueError(f"nested more than {JSON_DEPTH_MAX} levels deep")
    if isinstance(value, str):
        if len(value) > PLACE_MAX:
            raise ValueError(f"a text value may have at most {PLACE_MAX} characters")
        if why := text_problem(value):
            raise ValueError(why)
    elif isinstance(value, dict | list):
        if len(value) > LIST_MAX:
            raise ValueError(f"at most {LIST_MAX} entries")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and (len(key) > CODE_MAX or text_problem(key)):
                raise ValueError(f"the key {key[:CODE_MAX]!r} is not a field name")
            _bounded_json(item, depth + 1)
    return value


BirthDate = Annotated[dt.date, AfterValidator(_birth_date)]
FreeForm = Annotated[dict[str, Any], AfterValidator(_bounded_json)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Parent(_Strict):
    iin: str | None = Field(None, max_length=12)
    name: PersonName

    @field_validator("iin")
    @classmethod
    def _iin(cls, v: str | None) -> str | None:
        if v is not None and (why := iin_rules.problem(v)):
            raise ValueError(why)
        return v


class Child(_Strict):
    name: PersonName
    sex: Literal["male", "female"]
    birth_date: BirthDate
    birth_place: Place


class BirthDetails(_Strict):
    """What a birth application states about the child and the parents (S002/App.1)."""

    child: Child
    mother: Parent | None = None
    father: Parent | None = None

    @model_validator(mode="after")
    def _a_parent(self) -> BirthDetails:
        if self.mother is None and self.father is None:
            raise ValueError("at least one parent must be named")
        return self


class Subject(Parent):
    """The person a record is about (the deceased, a spouse, the person changing the name, the child)."""

    birth_date: BirthDate | None = None


class ActDetails(_Strict):
    """What an application of the other services states: the variant selecting the review term (S002 per
    service), the subject and the other parties of the act, the record it concerns (amendment, repeat
    certificate, annulment, the birth record a paternity, adoption or name change changes), and the changes."""

    variant: Code | None = None
    subject: Subject | None = None
    parties: list[Subject] = Field(default_factory=list, max_length=LIST_MAX)
    facts: FreeForm = Field(default_factory=dict)
    record_id: Id | None = None
    birth_record_id: Id | None = None
    record_kind: (
        Literal["birth", "marriage", "divorce", "death", "paternity", "adoption", "name_change"] | None
    ) = None
    change: Literal["amendment", "addition", "correction"] | None = None
    changes: FreeForm = Field(default_factory=dict)
    reason: Reason | None = None
    from_abroad: bool = False
    # Which result is asked for where the regulation offers a choice: a repeat certificate or a справка
    # (S002/App.3 p.3), a death certificate or a death справка (S002/App.7 p.3).
    document: (
        Literal["repeat_certificate", "civil_status_spravka", "death_certificate", "death_spravka"] | None
    ) = None


class BirthAmendment(ActDetails):
    """An amendment, addition or correction of a birth record (S002/App.1 p.5(3): 7 WD)."""


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
    key = "amendment" if details.variant == "amendment" else service_id
    return [f for f in NEEDS.get(key, ()) if not getattr(details, f)]


def missing_reason(service: StateService, field: str) -> str:
    if field == "variant":
        return f"required for this service: one of {', '.join(service.variants())}"
    if field == "birth_record_id":
        return "required for this service: the id of the child's birth record it changes"
    return "required for this service"


def rule_problems(service_id: str, details: ActDetails, today: dt.date) -> list[dict[str, str]]:
    """What a registrar refuses beyond the shape of the fields on `today`, as [{path, reason}]."""
    if service_id != "death_registration" or details.variant == "amendment":
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


DETAILS_BY_SERVICE: dict[str, type[BaseModel]] = {"birth_registration": BirthDetails}
